"""A project folder is self-contained: copied alone, away from the repository, with its
data path given, it trains, evaluates and registers with ``mlflow run``."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from lifecycle.sync import declaration
from tests.helpers import REPO_ROOT, Store, client_for, run_cli

pytestmark = pytest.mark.e2e

PROJECTS = ("iris", "gold_prices", "cities")


def data_file(project: str, mirror: Path) -> Path:
    pins = declaration(REPO_ROOT / project).datasets
    if pins:
        return mirror / pins[0].relative_path
    return REPO_ROOT / "datasets" / f"{project}.csv"


@pytest.mark.parametrize("project", PROJECTS)
def test_a_folder_copied_alone_runs_its_lifecycle(
    project: str, store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    alone = tmp_path / "elsewhere" / project
    shutil.copytree(
        REPO_ROOT / project, alone, ignore=shutil.ignore_patterns("__pycache__", "mlruns", "*.db")
    )
    assert not (alone.parent / "datasets").exists()
    assert not (alone.parent / "lifecycle").exists()
    data = data_file(project, datasets_mirror)
    trained = run_cli(
        ["mlflow", "run", str(alone), "-P", f"data_path={data}", "--env-manager", "local"],
        store,
        tmp_path,
        DATASETS_MIRROR="",
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_id = re.search(rf"^{project} train: run_id=([0-9a-f]{{32}})", trained.stdout, re.M)
    assert run_id, trained.stdout
    model_uri = f"runs:/{run_id.group(1)}/model"
    for step in ("evaluate", "register"):
        result = run_cli(
            [
                *("mlflow", "run", str(alone), "-e", step),
                *("-P", f"model_uri={model_uri}", "--env-manager", "local"),
            ],
            store,
            tmp_path,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"{project} {step}: run_id=" in result.stdout
    champion = client_for(store).get_model_version_by_alias(project, "champion")
    assert champion.run_id == run_id.group(1)

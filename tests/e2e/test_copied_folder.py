"""A project folder is self-contained: copied alone, away from the repository, with its
data path given, it trains (``-P max_depth=3``, the README's first run), evaluates and
registers with ``mlflow run``. Iris here; the
gold and cities lifecycles run from folders copied alone in their own end-to-end tests
(tests/e2e/test_gold.py, tests/e2e/test_cities.py), which then serve the champion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import Store, client_for, copied_alone, run_cli

pytestmark = pytest.mark.e2e


def test_a_folder_copied_alone_runs_its_lifecycle(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    import mlflow

    alone, data = copied_alone("iris", tmp_path, datasets_mirror)
    trained = run_cli(
        [
            *("mlflow", "run", str(alone), "-P", f"data_path={data}", "-P", "max_depth=3"),
            *("--env-manager", "local"),
        ],
        store,
        tmp_path,
        DATASETS_MIRROR="",
    )
    assert trained.returncode == 0, trained.stderr[-3000:]
    run_id = re.search(r"^iris train: run_id=([0-9a-f]{32})", trained.stdout, re.M)
    assert run_id, trained.stdout
    model_uri = f"runs:/{run_id.group(1)}/model"
    run = client_for(store).get_run(run_id.group(1))
    assert run.info.status == "FINISHED"
    assert run.info.experiment_id == store.experiment_id
    assert run.data.tags["mlflow.project.entryPoint"] == "main"
    assert run.data.params["max_depth"] == "3"
    model = mlflow.sklearn.load_model(model_uri)
    assert model.max_depth == 3
    assert model.get_depth() <= 3
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
        assert f"iris {step}: run_id=" in result.stdout
    champion = client_for(store).get_model_version_by_alias("iris", "champion")
    assert champion.run_id == run_id.group(1)

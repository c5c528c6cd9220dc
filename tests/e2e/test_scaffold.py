"""The scaffold end to end: ``python -m orchestrator new-project diabetes`` in a scratch
copy of the repository makes a folder that passes the contract test and its own
generated unit and CLI tests, type-checks, runs in the orchestrator
(``-P projects=diabetes``) and serves its champion over HTTP, with no edit anywhere.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.helpers import (
    REPO_ROOT,
    Store,
    assert_serves_its_golden_set,
    client_for,
    run_cli,
    served_model,
)

pytestmark = pytest.mark.e2e

FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
ROW = [0.038, 0.051, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.020, -0.018]


def scratch_copy(target: Path) -> Path:
    """The repository's files as they are (tracked and untracked, not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_a_scaffolded_project_passes_the_contract_runs_and_serves(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    root = scratch_copy(tmp_path / "repository")
    made = run_cli([sys.executable, "-m", "orchestrator", "new-project", "diabetes"], store, root)
    assert made.returncode == 0, made.stderr
    assert (root / "diabetes" / "diabetes_workflow" / "steps.py").is_file()
    again = run_cli([sys.executable, "-m", "orchestrator", "new-project", "diabetes"], store, root)
    assert again.returncode == 2
    assert "already exists" in again.stderr

    lint = run_cli([sys.executable, "-m", "ruff", "check", "diabetes"], store, root)
    assert lint.returncode == 0, lint.stdout
    # The collection's own contract tests find the new project with no list to edit, and
    # the tests new-project wrote pass as written: one pytest process runs both.
    contract = run_cli(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "tests/cli/test_project_contract.py",
            "tests/unit/test_project_files.py",
            "tests/unit/test_project_docs.py",
            "tests/static/test_code_quality.py::test_every_project_package_is_type_checked",
            "tests/unit/test_diabetes_core.py",
            "tests/cli/test_diabetes_cli.py",
            "-k",
            "diabetes or type_checked",
            "-rA",
        ],
        store,
        root,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert contract.returncode == 0, contract.stdout[-4000:]
    passed = contract.stdout
    written = [line for line in passed.splitlines() if line.startswith("PASSED tests/")]
    assert len([line for line in written if "test_diabetes_" in line]) == 11, passed[-3000:]
    assert any("test_project_contract.py" in line for line in written), passed[-3000:]
    types = run_cli(
        [sys.executable, "-m", "mypy", "diabetes/diabetes_workflow"],
        store,
        root,
        MYPYPATH=str(root / "diabetes"),
    )
    assert types.returncode == 0, types.stdout[-4000:]

    orchestrated = run_cli(
        ["mlflow", "run", ".", "-P", "projects=diabetes", "--env-manager", "local"], store, root
    )
    assert orchestrated.returncode == 0, orchestrated.stderr[-4000:]
    assert "diabetes" in orchestrated.stdout
    champion = client_for(store).get_model_version_by_alias("diabetes", "champion")
    assert champion.tags["lifecycle.project"] == "diabetes"

    with served_model(store.env(), "models:/diabetes@champion", tmp_path) as base:
        assert_serves_its_golden_set(store, "diabetes", base)
        body = {"dataframe_split": {"columns": FEATURES, "data": [ROW, ROW]}}
        answer = requests.post(f"{base}/invocations", json=body, timeout=30)
        assert answer.status_code == 200, answer.text
        predictions = answer.json()["predictions"]
        assert len(predictions) == 2
        assert all(isinstance(value, float) for value in predictions)
        bad = {"dataframe_split": {"columns": FEATURES, "data": [ROW, [*ROW[:2], None, *ROW[3:]]]}}
        refused = requests.post(f"{base}/invocations", json=bad, timeout=30)
        assert refused.status_code == 400
        assert "row 1: bmi is missing" in refused.json()["message"]

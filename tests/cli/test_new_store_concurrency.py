"""Steps started at once on a sqlite store that does not exist yet all succeed: one
creates the store, the others wait for it (lifecycle.store). Without that, all but one
die with MLflow's raw ``duplicate column name`` migration error."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO_ROOT, VENV_BIN

STEPS = 3


def test_steps_started_together_on_a_new_store_all_succeed(tmp_path: Path) -> None:
    database = tmp_path / "fresh" / "mlflow.db"
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            "MLFLOW_TRACKING_URI": f"sqlite:///{database}",
            "MLFLOW_EXPERIMENT_NAME": "new-store",
            # The project's package, run from a scratch folder: the artifacts (./mlruns
            # beside a sqlite store) land under tmp_path, not in the repository.
            "PYTHONPATH": str(REPO_ROOT / "iris"),
        }
    )
    data = REPO_ROOT / "datasets" / "iris.csv"
    steps = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "iris_workflow",
                "train",
                "--random-state",
                str(seed),
                "--data-path",
                str(data),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(STEPS)
    ]
    outputs = [step.communicate(timeout=300) for step in steps]
    for step, (_, stderr) in zip(steps, outputs, strict=True):
        assert step.returncode == 0, stderr[-3000:]
        assert "Traceback" not in stderr
        assert "OperationalError" not in stderr
    with sqlite3.connect(database) as db:
        statuses = [row[0] for row in db.execute("SELECT status FROM runs")]
        (integrity,) = db.execute("PRAGMA integrity_check").fetchone()
    assert statuses == ["FINISHED"] * STEPS
    assert integrity == "ok"
    assert (tmp_path / "mlruns").is_dir()

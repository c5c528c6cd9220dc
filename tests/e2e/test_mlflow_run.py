"""End-to-end: the real ``mlflow run`` on the iris project, with a local environment and
with one that uv builds from ``iris/conda.yaml``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, Store, all_runs, assert_failed_run, client_for, run_cli

pytestmark = pytest.mark.e2e


def run_id_from(output: str) -> str:
    match = re.search(r"run_id=([0-9a-f]{32})", output)
    assert match, output
    return match.group(1)


def test_mlflow_run_iris_tune_nests_the_grid_and_hands_on_the_best_model(store: Store) -> None:
    result = run_cli(
        [
            "mlflow",
            "run",
            "iris",
            "-e",
            "tune",
            "--env-manager",
            "local",
            "-P",
            "max_leaf_nodes_grid=3,4",
            "-P",
            "max_depth_grid=2..3",
        ],
        store,
        REPO_ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_id = run_id_from(result.stdout)
    client = client_for(store)
    parent = client.get_run(run_id)
    assert parent.data.tags["mlflow.project.entryPoint"] == "tune"
    assert parent.data.params["max_depth_grid"] == "2..3"
    children = client.search_runs(
        [store.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{run_id}'"
    )
    assert len(children) == 4
    registered = run_cli(
        [
            "mlflow",
            "run",
            "iris",
            "-e",
            "register",
            "--env-manager",
            "local",
            "-P",
            f"model_uri=runs:/{run_id}/model",
        ],
        store,
        REPO_ROOT,
    )
    assert registered.returncode == 0, registered.stderr[-3000:]
    assert client.get_model_version_by_alias("iris", "champion").run_id == run_id


# One case of each way a step under ``mlflow run`` refuses its input: an option click
# cannot read, a value out of its declared range, a missing file, a URI naming no model,
# a registered version where register takes a trained model, a missing input folder.
# Each parameter's own checks are the CLI tier's (tests/cli, tests/unit/test_scoring.py).
@pytest.mark.parametrize(
    ("entry", "params", "fragments"),
    [
        ("main", ["max_depth=abc"], ["--max-depth", "'abc' is not a valid integer"]),
        ("train", ["max_depth=3_0"], ["--max-depth", "'3_0' is not a valid integer"]),
        ("train", ["max_depth=0"], ["max_depth=0", "integer from 1 to 10000"]),
        ("train", ["data_path=no/such.csv"], ["'no/such.csv' does not exist"]),
        (
            "evaluate",
            ["model_uri=runs:/0123456789abcdef0123456789abcdef/model"],
            ["does not name an existing model"],
        ),
        ("register", ["model_uri=models:/iris@champion"], ["names a registered model version"]),
        ("score", ["input=no/such/dir", "output=out"], ["input", "does not exist"]),
    ],
)
def test_bad_input_fails_the_run_with_a_clear_message(
    store: Store, entry: str, params: list[str], fragments: list[str]
) -> None:
    """The run ``mlflow run`` made is FAILED with the reason, and named for its step,
    even when the step refused its options before it could name the run itself."""
    args = ["mlflow", "run", "iris", "-e", entry, "--env-manager", "local"]
    for param in params:
        args += ["-P", param]
    assert_failed_run(store, run_cli(args, store, REPO_ROOT), fragments)
    (run,) = all_runs(store)
    step = "train" if entry == "main" else entry
    assert run.data.tags["mlflow.runName"] == f"iris · {step}"


def test_mlflow_run_iris_in_an_environment_uv_builds(store: Store, tmp_path: Path) -> None:
    env_root = tmp_path / "envs"
    result = run_cli(
        ["mlflow", "run", "iris", "--env-manager", "uv", "-P", "max_depth=2"],
        store,
        REPO_ROOT,
        timeout=900,
        MLFLOW_ENV_ROOT=str(env_root),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run = client_for(store).get_run(run_id_from(result.stdout))
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.project.env"] == "uv"
    (environment,) = env_root.iterdir()
    python = environment / "bin" / "python"
    assert python.exists()
    site_packages = list(environment.glob("lib/python3.11/site-packages/mlflow-3.17.2.dist-info"))
    assert site_packages, "mlflow 3.17.2 from iris/conda.yaml is not in the uv environment"
    assert f"Running command 'source {environment}/bin/activate" in result.stderr


def test_mlflow_run_iris_score_writes_the_champions_predictions(
    store: Store, tmp_path: Path
) -> None:
    """The score entry point through ``mlflow run``: the champion alias resolved to its
    version, Parquet written with the metadata, the run recording it. JAVA_HOME names
    no Java, which makes engine=spark refuse at once; the pandas engine needs none."""
    import pandas as pd

    from iris_workflow import steps
    from lifecycle.io.manifests import read_output

    trained = steps.train()
    version = steps.register(trained.model_uri).version
    source = tmp_path / "in.csv"
    pd.read_csv(REPO_ROOT / "datasets" / "iris.csv").to_csv(source, index=False)
    output = tmp_path / "scores"
    result = run_cli(
        [
            *("mlflow", "run", "iris", "-e", "score", "--env-manager", "local"),
            *("-P", f"input={source}", "-P", f"output={output}"),
        ],
        store,
        REPO_ROOT,
        JAVA_HOME=str(tmp_path / "no-java"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"model_uri=models:/iris/{version}" in result.stdout
    table = read_output(str(output)).to_pandas()
    assert len(table) == 150
    accuracy = (table["predicted_species"] == table["species"]).mean()
    assert accuracy > 0.9
    run = client_for(store).get_run(run_id_from(result.stdout))
    assert run.info.status == "FINISHED"
    # mlflow run logs a value it had to shell-quote with its quotes.
    assert run.data.params["spark_master"] == "'local[*]'"
    assert run.data.metrics["rows_scored"] == 150


def test_sigterm_to_mlflow_run_stops_the_score_step_and_records_why(
    store: Store, tmp_path: Path
) -> None:
    """``mlflow run`` passes no SIGTERM to the step it starts. The step watches the
    process that started it: once ``mlflow run`` is gone, the step stops as if it had
    been sent SIGTERM itself: its output removed, its run FAILED with the reason."""
    import contextlib
    import os
    import signal
    import subprocess
    import time

    import pandas as pd

    from iris_workflow import steps
    from lifecycle.io import claims

    steps.register(steps.train().model_uri)
    source = tmp_path / "in.parquet"
    frame = pd.read_csv(REPO_ROOT / "datasets" / "iris.csv").drop(columns=["species"])
    frame.sample(600_000, replace=True, random_state=0).to_parquet(source)
    output = tmp_path / "scores"
    launcher = subprocess.Popen(
        [
            *("mlflow", "run", "iris", "-e", "score", "--env-manager", "local"),
            *("-P", f"input={source}", "-P", f"output={output}"),
        ],
        cwd=REPO_ROOT,
        env=store.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (output / claims.CLAIM).exists():
            assert launcher.poll() is None, "mlflow run ended before the step claimed"
            assert time.monotonic() < deadline, "the step never claimed its output"
            time.sleep(0.05)
        launcher.send_signal(signal.SIGTERM)  # the launcher only, as a scheduler would
        launcher.wait(timeout=30)
        deadline = time.monotonic() + 60
        while output.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not output.exists(), "the step went on after mlflow run was stopped"
        (run,) = client_for(store).search_runs(
            [store.experiment_id], "tags.`lifecycle.step` = 'score'"
        )
        while run.info.status == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
            run = client_for(store).get_run(run.info.run_id)
        assert run.info.status == "FAILED"
        reason = run.data.tags["lifecycle.failure_reason"]
        assert reason.startswith("the step was stopped: the process that started this step")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)


def test_ctrl_c_reaches_mlflow_run_and_its_step_and_the_step_stops_once(
    store: Store, tmp_path: Path
) -> None:
    """Ctrl-C in a terminal sends SIGINT to every process of the foreground group: to
    ``mlflow run`` and to its step. ``mlflow run`` then sends the step SIGTERM as well.
    The step acts on the first signal at its next safe point and absorbs the second: it
    says why in one line, exits 130, removes its output, and its run is FAILED with the
    first signal as the reason; nothing is left running."""
    import contextlib
    import os
    import signal
    import subprocess
    import time

    import pandas as pd

    from iris_workflow import steps
    from lifecycle.io import claims

    steps.register(steps.train().model_uri)
    source = tmp_path / "in.parquet"
    frame = pd.read_csv(REPO_ROOT / "datasets" / "iris.csv").drop(columns=["species"])
    frame.sample(2_000_000, replace=True, random_state=0).to_parquet(source)
    output = tmp_path / "scores"
    terminal = subprocess.Popen(
        [
            *("mlflow", "run", "iris", "-e", "score", "--env-manager", "local"),
            *("-P", f"input={source}", "-P", f"output={output}"),
        ],
        cwd=REPO_ROOT,
        env=store.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 120
        while not (output / claims.CLAIM).exists():
            assert terminal.poll() is None, terminal.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the step never claimed its output"
            time.sleep(0.05)
        os.killpg(terminal.pid, signal.SIGINT)  # Ctrl-C: mlflow run and its step at once
        _, stderr = terminal.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(terminal.pid, signal.SIGKILL)
        terminal.wait(timeout=30)
    assert terminal.returncode != 0
    assert stderr.count("Error: the step was stopped: stopped by SIGINT") == 1, stderr[-3000:]
    assert "Traceback" not in stderr.split("interrupted, cancelling run")[-1], stderr[-3000:]
    assert not output.exists(), "the stopped step left its output behind"
    (run,) = client_for(store).search_runs([store.experiment_id], "tags.`lifecycle.step` = 'score'")
    assert run.info.status == "FAILED"
    assert run.data.tags["lifecycle.failure_reason"] == "the step was stopped: stopped by SIGINT"
    leftover = subprocess.run(["pgrep", "-f", f"output {output}"], capture_output=True)
    assert leftover.stdout == b"", "a step process outlived Ctrl-C"

"""Spark jobs against the loopback team stack (PostgreSQL, basic-auth, SeaweedFS S3):
``score`` reads its input from the stack's S3 and writes its output there, as alice,
through real ``python -m <project>`` processes on Spark ``local[2]``."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.errors import DataError
from lifecycle.io import claims, locations, manifests
from tests.helpers import REPO_ROOT
from tests.spark.test_score_spark import iris_input, sorted_rows
from tests.stack.shared import TeamServer

pytestmark = pytest.mark.e2e

DATA_BUCKET = "scoring"
EXPERIMENT = "spark-jobs"
# Its own name on the run's shared stack, where the orchestrator registers "iris".
MODEL = "iris-on-spark"


def step(
    project: str, args: list[str], env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess:
    package = {"iris": "iris_workflow", "gold_prices": "gold_workflow"}[project]
    return subprocess.run(
        [sys.executable, "-m", package, *args],
        cwd=REPO_ROOT / project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def storage_env(server: TeamServer) -> dict[str, str]:
    """The data platform's S3 keys for the scoring bucket (users hold none for MLflow's)."""
    state = server.stack.state
    return {
        "MLFLOW_S3_ENDPOINT_URL": state.s3_endpoint,
        "AWS_ACCESS_KEY_ID": state.s3_access_key,
        "AWS_SECRET_ACCESS_KEY": state.s3_secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture(scope="module")
def iris_champion(postgres_server: TeamServer) -> str:
    """alice trains and registers iris on the team server; returns the champion version."""
    postgres_server.client("alice").create_experiment(EXPERIMENT)
    env = postgres_server.env("alice", MLFLOW_EXPERIMENT_NAME=EXPERIMENT)
    trained = step("iris", ["train"], env)
    assert trained.returncode == 0, trained.stderr[-3000:]
    model_uri = re.search(r"model_uri=(\S+)", trained.stdout).group(1)
    registered = step("iris", ["register", "--model-uri", model_uri, "--model-name", MODEL], env)
    assert registered.returncode == 0, registered.stderr[-3000:]
    return re.search(r"version=(\d+)", registered.stdout).group(1)


def test_spark_scores_from_and_to_the_stacks_s3_like_the_pandas_engine(
    postgres_server: TeamServer, iris_champion: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = postgres_server.stack.s3_client()
    s3.create_bucket(Bucket=DATA_BUCKET)
    frame = iris_input(900)
    for number in range(3):
        buffer = io.BytesIO()
        frame.iloc[number * 300 : (number + 1) * 300].to_parquet(buffer)
        s3.put_object(Bucket=DATA_BUCKET, Key=f"in/part-{number}.parquet", Body=buffer.getvalue())
    env = postgres_server.env(
        "alice", MLFLOW_EXPERIMENT_NAME=EXPERIMENT, **storage_env(postgres_server)
    )
    outputs = {}
    for engine in ("spark", "pandas"):
        output = f"s3://{DATA_BUCKET}/out/{engine}"
        result = step(
            "iris",
            [
                "score",
                "--input",
                f"s3://{DATA_BUCKET}/in",
                "--output",
                output,
                "--model-uri",
                f"models:/{MODEL}@champion",
                "--engine",
                engine,
                "--spark-master",
                "local[2]",
            ],
            env,
        )
        assert result.returncode == 0, result.stderr[-4000:]
        assert f"model_uri=models:/{MODEL}/{iris_champion}" in result.stdout
        assert "rows_in=900 rows_scored=900 rows_rejected=0 rows_out=900" in result.stdout
        outputs[engine] = (output, re.search(r"run_id=([0-9a-f]{32})", result.stdout).group(1))

    keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=DATA_BUCKET, Prefix="out/spark/")["Contents"]
    ]
    assert "out/spark/_SUCCESS" in keys
    assert sum(key.endswith(".parquet") for key in keys) == 3  # one part per partition
    for key, value in storage_env(postgres_server).items():
        monkeypatch.setenv(key, value)
    spark_rows = manifests.read_output(outputs["spark"][0])
    pandas_rows = manifests.read_output(outputs["pandas"][0])
    pd.testing.assert_frame_equal(sorted_rows(spark_rows), sorted_rows(pandas_rows))
    assert set(spark_rows.column("model_version").to_pylist()) == {int(iris_champion)}

    client = postgres_server.client("alice")
    run = client.get_run(outputs["spark"][1])
    assert run.data.tags["lifecycle.output"] == outputs["spark"][0]
    assert run.data.tags["lifecycle.registered_version"] == iris_champion
    assert run.data.metrics["rows_out"] == 900
    (dataset,) = run.inputs.dataset_inputs
    assert f"s3://{DATA_BUCKET}/in" in dataset.dataset.source


def test_a_second_run_to_the_same_s3_output_is_refused(
    postgres_server: TeamServer, iris_champion: str
) -> None:
    env = postgres_server.env(
        "alice", MLFLOW_EXPERIMENT_NAME=EXPERIMENT, **storage_env(postgres_server)
    )
    s3 = postgres_server.stack.s3_client()
    listing = s3.list_objects_v2(Bucket=DATA_BUCKET, Prefix="out/pandas/")
    before = sorted(item["ETag"] for item in listing.get("Contents", []))
    assert before, "the first test writes out/pandas"
    result = step(
        "iris",
        [
            "score",
            "--input",
            f"s3://{DATA_BUCKET}/in",
            "--output",
            f"s3://{DATA_BUCKET}/out/pandas",
            "--model-uri",
            f"models:/{MODEL}@champion",
        ],
        env,
    )
    assert result.returncode == 1
    assert "already exists (written by run" in result.stderr
    assert "nothing was written" in result.stderr
    after = s3.list_objects_v2(Bucket=DATA_BUCKET, Prefix="out/pandas/")["Contents"]
    assert sorted(item["ETag"] for item in after) == before


def test_the_s3_claim_is_a_conditional_write_that_only_one_job_wins(
    postgres_server: TeamServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stack's S3 store honours ``If-None-Match: *``: of two claims of one output
    the second is refused, however close together they come."""
    from lifecycle.io import outputs

    for key, value in storage_env(postgres_server).items():
        monkeypatch.setenv(key, value)
    location = locations.locate(f"s3://{DATA_BUCKET}/claimed/out")
    first = claims.new_record("run-a")
    assert claims.create_exclusive(location, claims.CLAIM, first.to_json())
    assert not claims.create_exclusive(location, claims.CLAIM, b"the second job")
    with pytest.raises(DataError, match=r"being written by run run-a|incomplete"):
        outputs.claim(location, claims.new_record("run-b"), True, claims.job_active_here_or_tracked)


def test_spark_without_java_fails_at_once(postgres_server: TeamServer, tmp_path: Path) -> None:
    env = postgres_server.env("alice", JAVA_HOME=str(tmp_path / "none"))
    result = step(
        "iris",
        ["score", "--input", "in", "--output", "out", "--engine", "spark"],
        env,
        timeout=120,
    )
    assert result.returncode == 1
    assert "engine=spark needs Java 17 or newer" in result.stderr
    assert "openjdk-17-jre-headless" in result.stderr


GOLD_GRID = [
    "--models",
    "linear_regression,ridge",
    "--alpha-grid",
    "0.1,10,1000",
    "--refit-every",
    "252",
]


def test_a_gold_study_on_spark_runs_resumes_and_hands_its_best_model_to_register(
    postgres_server: TeamServer, datasets_mirror: Path
) -> None:
    """On Spark local[2] against the team server (its executors write the trials through
    the REST API, logged in): two trials, then a resume adding the other two, all
    children of the first tune run; register takes runs:/<tune>/model. (That Spark's
    study chooses what the sequential one chooses is the scale benchmark's check,
    tests/e2e/test_bench_scale.py, and resuming by name the CLI tier's.)"""
    env = postgres_server.env(
        "alice", MLFLOW_EXPERIMENT_NAME=EXPERIMENT, DATASETS_MIRROR=str(datasets_mirror)
    )
    spark_args = ["--engine", "spark", "--spark-master", "local[2]", "--study-name", "gold-spark"]
    first = step("gold_prices", ["tune", *GOLD_GRID, "--trials", "2", *spark_args], env)
    assert first.returncode == 0, first.stderr[-4000:]
    first_run = re.search(r"run_id=(\w+)", first.stdout).group(1)
    assert "trials_run=2 trials_completed=2" in first.stdout
    resumed = step("gold_prices", ["tune", *GOLD_GRID, "--trials", "8", *spark_args], env)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert f"study_run_id={first_run}" in resumed.stdout
    assert "trials_completed=4" in resumed.stdout
    client = postgres_server.client("alice")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    children = client.search_runs(
        [experiment.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{first_run}'"
    )
    assert len(children) == 4
    assert {c.info.status for c in children} == {"FINISHED"}
    keys = sorted((c.data.params["model"], c.data.params["alpha"]) for c in children)
    assert keys == [
        ("linear_regression", "1.0"),
        ("ridge", "0.1"),
        ("ridge", "10.0"),
        ("ridge", "1000.0"),
    ]
    model_uri = re.search(r"model_uri=(\S+)", resumed.stdout).group(1)
    registered = step(
        "gold_prices", ["register", "--model-uri", model_uri, "--model-name", "gold-tuned"], env
    )
    assert registered.returncode == 0, registered.stderr[-3000:]
    assert "version=1" in registered.stdout

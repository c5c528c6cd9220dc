"""End-to-end against the team stack with its metadata in MariaDB/MySQL (PyMySQL):
the iris project trains and registers as an authenticated user; the runs are in the
MySQL tables, the artifacts in the S3 bucket, and the champion loads through the server."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers import REPO_ROOT
from tests.stack import security
from tests.stack.shared import TeamServer

pytestmark = pytest.mark.e2e


def mlflow_run(server: TeamServer, *args: str) -> str:
    result = subprocess.run(
        [
            "mlflow",
            "run",
            "iris",
            "--env-manager",
            "local",
            "--experiment-name",
            "team-mysql",
            *args,
        ],
        cwd=REPO_ROOT,
        env=server.env("alice"),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return re.search(r"run_id=([0-9a-f]{32})", result.stdout).group(1)


def test_iris_on_mysql_and_s3(mysql_server: TeamServer) -> None:
    import mlflow

    assert mysql_server.stack.state.database_uri.startswith("mysql+pymysql://")
    train_id = mlflow_run(mysql_server, "-P", "max_depth=3")
    mlflow_run(mysql_server, "-e", "register", "-P", f"model_uri=runs:/{train_id}/model")

    runs = mysql_server.sql(
        "SELECT r.run_uuid, r.status FROM runs r JOIN experiments e "
        "ON e.experiment_id = r.experiment_id WHERE e.name = 'team-mysql'"
    )
    assert len(runs) == 2
    assert {status for _, status in runs} == {"FINISHED"}
    params = dict(
        mysql_server.sql("SELECT `key`, value FROM params WHERE run_uuid = :r", r=train_id)
    )
    assert params["max_depth"] == "3"
    metrics = dict(
        mysql_server.sql("SELECT `key`, value FROM metrics WHERE run_uuid = :r", r=train_id)
    )
    assert metrics["test_accuracy"] >= 0.9

    s3 = mysql_server.stack.s3_client()
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="mlflow").get("Contents", [])]
    assert any(key.endswith("/artifacts/MLmodel") for key in keys)
    assert any(f"/{train_id}/artifacts/split/test.csv" in key for key in keys)

    alice = mysql_server.client("alice")
    assert alice.get_model_version_by_alias("iris", "champion").run_id == train_id
    env = mysql_server.env("alice")
    with pytest.MonkeyPatch.context() as patch:
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            patch.setenv(key, env[key])
        model = mlflow.pyfunc.load_model("models:/iris@champion")
    import pandas as pd

    rows = pd.DataFrame(
        [[5.1, 3.5, 1.4, 0.2]],
        columns=["sepal_length", "sepal_width", "petal_length", "petal_width"],
    )
    assert list(model.predict(rows)) == ["setosa"]


def test_only_a_runs_owner_writes_to_it(mysql_server: TeamServer) -> None:
    security.check_writes_need_ownership(mysql_server)


def test_an_owner_shuts_another_user_out_with_deny(mysql_server: TeamServer) -> None:
    security.check_owner_can_deny(mysql_server)


def test_the_tracking_server_cannot_be_made_to_read_the_bucket(mysql_server: TeamServer) -> None:
    security.check_the_tracking_server_cannot_read_the_bucket(mysql_server)


def test_only_the_server_chooses_artifact_locations(mysql_server: TeamServer) -> None:
    security.check_artifact_locations_are_the_servers(mysql_server)

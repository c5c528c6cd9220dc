"""The AWS load balancer's routing, on loopback: one address (``deploy.front_door``,
routing by path as the listener rule in deploy/aws/self-hosted does) in front of the
stack's two servers, and the tracking server's artifact root naming no host
(``mlflow-artifacts:/``), as the ECS task sets it.

What this proves: a client that knows only the one address trains, registers and loads
a model, with MLflow's default retry settings and without waiting (a missing file is a
404, which clients do not retry, not MLflow's 500, which they retry for minutes); every
artifact request reached the artifacts server and every other request the tracking
server; both servers accept the ``Host`` header the front door passes on; and the UI's
artifact browser path works through it. What it cannot prove: anything of
the real load balancer itself (TLS, its health checks, its timeouts).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests
from click.testing import CliRunner

from deploy.front_door import ARTIFACT_PATH_PREFIXES
from iris_workflow.cli import cli as iris_cli
from tests.stack.shared import CLIENT_RETRIES, USERS, TeamServer, attached_server

pytestmark = pytest.mark.e2e

EXPERIMENT = "team-front-door"


MODEL = "front-door-iris"


@pytest.fixture(scope="module")
def front_door_server(
    postgres_server: TeamServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TeamServer]:
    """The AWS topology on the run's stack: a tracking server whose artifact root names
    no host and an artifacts server of their own (as the load balancer's tasks), on the
    stack's database and bucket, behind the one address."""
    with attached_server(postgres_server, tmp_path_factory.mktemp("front-door"), True) as server:
        yield server


def routed(server: TeamServer) -> list[tuple[str, str, str]]:
    """(route, method, path) of every request the front door forwarded."""
    log = server.stack.log_tail("front_door", 10**8)
    lines = re.findall(r"^(artifacts|tracking) ([A-Z]+) (\S+) \d{3}$", log, flags=re.MULTILINE)
    return [(route, method, path) for route, method, path in lines]


def test_one_address_serves_runs_artifacts_and_models(front_door_server: TeamServer) -> None:
    import mlflow
    import pandas as pd

    state = front_door_server.stack.state
    env = front_door_server.env("alice", MLFLOW_EXPERIMENT_NAME=EXPERIMENT)
    assert env["MLFLOW_TRACKING_URI"] == state.front_door_uri
    with pytest.MonkeyPatch.context() as patch:
        # The login and the experiment; MLflow's own retry schedule, as users have it.
        for key, value in env.items():
            if key.startswith("MLFLOW_") and key not in CLIENT_RETRIES:
                patch.setenv(key, value)
        for key in CLIENT_RETRIES:
            patch.delenv(key, raising=False)
        mlflow.set_tracking_uri(state.front_door_uri)
        try:
            mlflow.MlflowClient().create_experiment(EXPERIMENT)
            trained = CliRunner().invoke(iris_cli, ["train"], catch_exceptions=False)
            run_id = re.search(r"run_id=([0-9a-f]{32})", trained.output).group(1)
            started = time.monotonic()
            registered = CliRunner().invoke(
                iris_cli,
                ["register", "--model-uri", f"runs:/{run_id}/model", "--model-name", MODEL],
            )
            register_seconds = time.monotonic() - started
            assert "becomes champion" in registered.output, registered.output
            artifact_uri = mlflow.MlflowClient().get_run(run_id).info.artifact_uri
            model = mlflow.pyfunc.load_model(f"models:/{MODEL}@champion")
        finally:
            mlflow.set_tracking_uri(None)

    # The run's artifacts name no host: the client resolved them against the front door.
    assert artifact_uri.startswith("mlflow-artifacts:/")
    assert "127.0.0.1" not in artifact_uri
    row = pd.DataFrame(
        [[5.1, 3.5, 1.4, 0.2]],
        columns=["sepal_length", "sepal_width", "petal_length", "petal_width"],
    )
    assert list(model.predict(row)) == ["setosa"]
    pages = front_door_server.stack.s3_client().get_paginator("list_objects_v2")
    keys = [
        item["Key"]
        for page in pages.paginate(Bucket="mlflow", Prefix="artifacts/")
        for item in page.get("Contents", [])
    ]
    assert any(f"/{run_id}/artifacts/split/test.csv" in key for key in keys)

    # MLflow 3 looked for the model among the run's artifacts first: a 404, not retried.
    assert register_seconds < 60
    requests_seen = routed(front_door_server)
    statuses = re.findall(r" (\d{3})$", front_door_server.stack.log_tail("front_door", 10**8), re.M)
    assert "500" not in statuses
    uploads = [r for r in requests_seen if r[0] == "artifacts" and r[1] == "PUT"]
    downloads = [r for r in requests_seen if r[0] == "artifacts" and r[1] == "GET"]
    assert uploads, requests_seen
    assert downloads, requests_seen
    assert any(r[0] == "tracking" and "runs/create" in r[2] for r in requests_seen)
    for route, _, path in requests_seen:
        assert (route == "artifacts") == path.startswith(ARTIFACT_PATH_PREFIXES), (route, path)


def test_the_ui_artifact_browser_works_through_the_one_address(
    front_door_server: TeamServer,
) -> None:
    state = front_door_server.stack.state
    alice = ("alice", USERS["alice"])
    experiments = requests.get(
        f"{state.front_door_uri}/ajax-api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": EXPERIMENT},
        auth=alice,
        timeout=30,
    )
    assert experiments.status_code == 200, experiments.text
    experiment_id = experiments.json()["experiment"]["experiment_id"]
    listing = requests.get(
        f"{state.front_door_uri}/ajax-api/2.0/mlflow-artifacts/artifacts",
        params={"path": experiment_id},
        auth=alice,
        timeout=30,
    )
    assert listing.status_code == 200, listing.text
    assert listing.json().get("files"), listing.text
    assert routed(front_door_server)[-1][:2] == ("artifacts", "GET")
    # Straight at the tracking server under another name, the same request is refused.
    elsewhere = requests.get(
        f"{state.tracking_uri}/ajax-api/2.0/mlflow/experiments/get-by-name",
        params={"experiment_name": EXPERIMENT},
        headers={"Host": "mlflow.elsewhere.example"},
        auth=alice,
        timeout=30,
    )
    assert elsewhere.status_code == 403


def test_a_missing_file_is_a_404_for_a_reader_and_a_403_for_anyone_else(
    front_door_server: TeamServer,
) -> None:
    """The 404 is decided after MLflow's permission check: a user who may not read the
    experiment learns nothing about what exists in it."""
    state = front_door_server.stack.state
    experiment_id = front_door_server.client("alice").get_experiment_by_name(EXPERIMENT)
    experiment_id = experiment_id.experiment_id
    # alice denies bob her experiment (MLflow 3.17's users/permissions API).
    denied = requests.post(
        f"{state.front_door_uri}/api/3.0/mlflow/users/permissions/grant",
        json={
            "username": "bob",
            "resource_type": "experiment",
            "resource_id": experiment_id,
            "permission": "DENY",
        },
        auth=("alice", USERS["alice"]),
        timeout=30,
    )
    assert denied.status_code == 200, denied.text
    missing = (
        f"{state.front_door_uri}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/no-run/x.txt"
    )
    as_alice = requests.get(missing, auth=("alice", USERS["alice"]), timeout=30)
    assert as_alice.status_code == 404, as_alice.text
    assert as_alice.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "s3://" not in as_alice.text  # MLflow's 500 named the bucket
    as_bob = requests.get(missing, auth=("bob", USERS["bob"]), timeout=30)
    assert as_bob.status_code == 403, as_bob.text

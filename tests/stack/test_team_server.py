"""End-to-end against the team stack on loopback: MLflow with basic-auth, metadata in a
fresh PostgreSQL database, artifacts in SeaweedFS's S3 server.

The whole orchestrator runs as an authenticated user; then the database tables, the
bucket and the served champion are checked. Auth, 8 concurrent clients, the tracking
server killed mid-run and S3 going away during an upload are tested on the same stack.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import REPO_ROOT, served_model
from tests.stack import security
from tests.stack.faults import S3Tripwire
from tests.stack.shared import USERS, TeamServer, attached_server

pytestmark = pytest.mark.e2e

EXPERIMENT = "team-orchestrator"
RUN_ID = re.compile(r"^([0-9a-f]{32})$", re.MULTILINE)
IRIS_ROWS = {
    "dataframe_split": {
        "columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"],
        "data": [[5.1, 3.5, 1.4, 0.2], [7.7, 3.0, 6.1, 2.3]],
    }
}


def run(args: list[str], env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def orchestrated(postgres_server: TeamServer, datasets_mirror: Path) -> dict:
    """The whole orchestrator, run once as alice against the team server."""
    result = run(
        ["mlflow", "run", ".", "--env-manager", "local", "--experiment-name", EXPERIMENT],
        postgres_server.env("alice", DATASETS_MIRROR=str(datasets_mirror)),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    (experiment_id,) = postgres_server.sql(
        "SELECT experiment_id FROM experiments WHERE name = :name", name=EXPERIMENT
    )[0]
    return {"experiment_id": str(experiment_id), "stdout": result.stdout}


def snapshot(server: TeamServer, experiment_id: str) -> dict[str, tuple]:
    """Every finished run's params, metrics and tags in one experiment, read straight
    from the database (the stack is shared: other experiments change meanwhile)."""
    rows = server.sql(
        "SELECT run_uuid FROM runs WHERE status = 'FINISHED' AND experiment_id = :e",
        e=int(experiment_id),
    )
    state = {}
    for (run_id,) in rows:
        params = server.sql("SELECT key, value FROM params WHERE run_uuid = :r", r=run_id)
        metrics = server.sql("SELECT key, value, step FROM metrics WHERE run_uuid = :r", r=run_id)
        tags = server.sql("SELECT key, value FROM tags WHERE run_uuid = :r", r=run_id)
        state[run_id] = (sorted(params), sorted(metrics), sorted(tags))
    return state


def bucket_objects(server: TeamServer) -> dict[str, int]:
    s3 = server.stack.s3_client()
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="mlflow"):
        objects.update({item["Key"]: item["Size"] for item in page.get("Contents", [])})
    return objects


def test_the_orchestrator_logs_to_postgres_and_s3(
    postgres_server: TeamServer, orchestrated: dict, tmp_path: Path
) -> None:
    experiment_id = orchestrated["experiment_id"]
    runs = postgres_server.sql(
        "SELECT run_uuid, status FROM runs WHERE experiment_id = :e", e=experiment_id
    )
    assert len(runs) == 1 + 3 * 3  # the parent and train/evaluate/register per project
    assert {status for _, status in runs} == {"FINISHED"}

    iris_train = postgres_server.sql(
        "SELECT t.run_uuid FROM tags t JOIN runs r ON r.run_uuid = t.run_uuid "
        "JOIN tags p ON p.run_uuid = t.run_uuid "
        "WHERE r.experiment_id = :e AND t.key = 'lifecycle.step' AND t.value = 'train' "
        "AND p.key = 'lifecycle.project' AND p.value = 'iris'",
        e=experiment_id,
    )[0][0]
    params = dict(
        postgres_server.sql("SELECT key, value FROM params WHERE run_uuid = :r", r=iris_train)
    )
    assert params["max_depth"] == "5"
    metrics = dict(
        postgres_server.sql("SELECT key, value FROM metrics WHERE run_uuid = :r", r=iris_train)
    )
    assert metrics["test_accuracy"] == pytest.approx(37 / 39)

    # The run's stack is shared: only this experiment's objects are the orchestrator's.
    objects = {
        key: size
        for key, size in bucket_objects(postgres_server).items()
        if key.startswith(f"artifacts/{experiment_id}/")
    }
    models = [key for key in objects if key.endswith("/artifacts/MLmodel")]
    assert len(models) == 3  # one logged model per project
    assert any(key.endswith("/artifacts/model.skops") for key in objects)
    assert any(f"/{iris_train}/artifacts/confusion_matrix.png" in key for key in objects)
    assert all(
        key.startswith(f"artifacts/{experiment_id}/") for key in objects if iris_train in key
    )

    champion = postgres_server.client("alice").get_model_version_by_alias("iris", "champion")
    assert champion.run_id == iris_train
    with served_model(postgres_server.env("alice"), "models:/iris@champion", tmp_path) as base:
        answer = requests.post(f"{base}/invocations", json=IRIS_ROWS, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": ["setosa", "virginica"]}


def test_only_authenticated_users_get_in(postgres_server: TeamServer) -> None:
    url = f"{postgres_server.uri}/api/2.0/mlflow/experiments/search"
    query = {"max_results": 5}
    assert requests.get(url, params=query, timeout=30).status_code == 401
    assert requests.get(url, params=query, auth=("alice", "wrong"), timeout=30).status_code == 401
    assert requests.get(url, params=query, auth=("nobody", "x"), timeout=30).status_code == 401
    # MLflow ships no default admin password, and the stack sets none.
    for default in ("password1234", "password", "admin", ""):
        response = requests.get(url, params=query, auth=("admin", default), timeout=30)
        assert response.status_code == 401, default
    assert requests.get(url, params=query, auth=("alice", USERS["alice"]), timeout=30).ok


def test_a_second_user_cannot_change_the_first_users_work(
    postgres_server: TeamServer, orchestrated: dict
) -> None:
    api = f"{postgres_server.uri}/api/2.0/mlflow"
    bob = ("bob", USERS["bob"])
    experiment_id = orchestrated["experiment_id"]
    # bob may look (default permission READ) ...
    read = requests.get(
        f"{api}/experiments/get", params={"experiment_id": experiment_id}, auth=bob, timeout=30
    )
    assert read.status_code == 200
    # ... but not log to, delete, or re-alias alice's experiment and model.
    create = requests.post(
        f"{api}/runs/create", json={"experiment_id": experiment_id}, auth=bob, timeout=30
    )
    assert create.status_code == 403, create.text
    delete = requests.post(
        f"{api}/experiments/delete", json={"experiment_id": experiment_id}, auth=bob, timeout=30
    )
    assert delete.status_code == 403, delete.text
    alias = requests.post(
        f"{api}/registered-models/alias",
        json={"name": "iris", "alias": "champion", "version": "1"},
        auth=bob,
        timeout=30,
    )
    assert alias.status_code == 403, alias.text
    remove = requests.delete(
        f"{api}/registered-models/alias",
        params={"name": "iris", "alias": "champion"},
        auth=bob,
        timeout=30,
    )
    assert remove.status_code == 403, remove.text
    delete_model = requests.delete(
        f"{api}/registered-models/delete", json={"name": "iris"}, auth=bob, timeout=30
    )
    assert delete_model.status_code == 403, delete_model.text
    assert postgres_server.client("alice").get_experiment(experiment_id).lifecycle_stage == "active"


def test_eight_concurrent_clients_lose_nothing(postgres_server: TeamServer) -> None:
    experiment_id = postgres_server.client("alice").create_experiment("team-concurrency")
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.stack.log_worker",
                "--experiment-id",
                experiment_id,
                "--worker",
                str(worker),
                "--runs",
                "3",
                "--steps",
                "20",
            ],
            cwd=REPO_ROOT,
            env=postgres_server.env("alice"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(8)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    for worker, (_, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr[-3000:]
        assert "Traceback" not in stderr
    created = {run_id for stdout, _ in outputs for run_id in RUN_ID.findall(stdout)}
    assert len(created) == 8 * 3
    runs = postgres_server.sql(
        "SELECT run_uuid, status FROM runs WHERE experiment_id = :e", e=experiment_id
    )
    assert {run_id for run_id, _ in runs} == created
    assert {status for _, status in runs} == {"FINISHED"}
    counts = postgres_server.sql(
        "SELECT m.run_uuid, count(*), sum(m.value) FROM metrics m JOIN runs r "
        "ON r.run_uuid = m.run_uuid WHERE r.experiment_id = :e GROUP BY m.run_uuid",
        e=experiment_id,
    )
    assert len(counts) == 24
    assert all(count == 4 * 20 for _, count, _ in counts)
    total = sum(value for _, _, value in counts)
    expected = sum(
        4 * (worker * 1000 + number * 100 + step)
        for worker in range(8)
        for number in range(3)
        for step in range(20)
    )
    assert total == pytest.approx(expected)
    latest = postgres_server.sql(
        "SELECT count(*) FROM latest_metrics l JOIN runs r ON r.run_uuid = l.run_uuid "
        "WHERE r.experiment_id = :e",
        e=experiment_id,
    )[0][0]
    assert latest == 24 * 4


def wait_for_running_run(server: TeamServer, experiment: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = server.sql(
            "SELECT r.run_uuid FROM runs r JOIN experiments e ON e.experiment_id = r.experiment_id"
            " WHERE e.name = :name AND r.status = 'RUNNING'",
            name=experiment,
        )
        if rows:
            return rows[0][0]
        time.sleep(0.2)
    raise AssertionError(f"no RUNNING run appeared in {experiment} within {timeout}s")


def wait_for_process(fragment: str, root: int, timeout: float = 120) -> int:
    """The PID of a process below ``root`` whose command line contains ``fragment``; only
    ``root``'s own tree counts, so a process of another test running the same step
    cannot be taken for it."""
    from bench.measure import process_tree

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in process_tree(root):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if fragment in command:
                return pid
        time.sleep(0.1)
    raise AssertionError(f"no process running {fragment!r} below {root} within {timeout}s")


def test_a_killed_server_loses_no_finished_run_and_the_interrupted_one_can_be_failed(
    postgres_server: TeamServer, orchestrated: dict, datasets_mirror: Path, tmp_path: Path
) -> None:
    """A tracking server killed while a step runs: every finished run and stored object
    is intact, and the interrupted run can be marked FAILED. The server killed is one of
    its own on the run's shared stack (its database and bucket), so no other test meets
    the outage."""
    before = snapshot(postgres_server, orchestrated["experiment_id"])
    objects_before = bucket_objects(postgres_server)
    assert len(before) == 1 + 3 * 3
    with attached_server(postgres_server, tmp_path / "faults") as own:
        client = subprocess.Popen(
            [
                "mlflow",
                "run",
                "gold_prices",
                "-e",
                "train",
                "--env-manager",
                "local",
                "--experiment-name",
                "team-faults",
            ],
            cwd=REPO_ROOT,
            env=own.env("alice", DATASETS_MIRROR=str(datasets_mirror)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            interrupted = wait_for_running_run(own, "team-faults")
            # Kill the server once the step process runs (mlflow run has logged the run's
            # parameters and handed over), so the step itself meets the dead server.
            wait_for_process("gold_workflow train", client.pid)
            own.stack.kill("mlflow")
            _, stderr = client.communicate(timeout=300)
        finally:
            if client.poll() is None:
                client.send_signal(signal.SIGKILL)
                client.wait(timeout=30)
        assert client.returncode != 0
        assert f"MLflow tracking at {own.uri} failed" in stderr
        assert "Connection refused" in stderr or "Max retries exceeded" in stderr

        own.stack.start_server()
        assert snapshot(postgres_server, orchestrated["experiment_id"]) == before
        objects_after = bucket_objects(postgres_server)
        assert {key: size for key, size in objects_after.items() if key in objects_before} == (
            objects_before
        )
        alice = own.client("alice")
        assert alice.get_run(interrupted).info.status == "RUNNING"

        marked = run(
            [
                sys.executable,
                "-m",
                "deploy.runs",
                "--experiment-name",
                "team-faults",
                "--older-than-minutes",
                "0",
                "--mark-failed",
            ],
            own.env("alice"),
            timeout=120,
        )
        assert marked.returncode == 0, marked.stderr
        assert interrupted in marked.stderr
        ended = alice.get_run(interrupted)
        assert ended.info.status == "FAILED"
        assert ended.data.tags["lifecycle.failure_reason"].startswith("interrupted")


def test_s3_down_during_upload_fails_clearly_and_keeps_what_was_stored(
    postgres_server: TeamServer, orchestrated: dict, tmp_path: Path
) -> None:
    """S3 goes away under an artifacts server mid-upload: the step fails with one clear
    line, its run FAILED with the reason, and every object stored before is intact. The
    artifacts server that loses S3 is one of its own on the shared stack, behind a relay
    that takes S3 away for it alone."""
    objects_before = bucket_objects(postgres_server)
    upstream = postgres_server.stack.state.weed_ports["s3"]
    with (
        S3Tripwire(upstream, marker=b"PUT /mlflow/artifacts/") as tripwire,
        attached_server(
            postgres_server, tmp_path / "s3-down", s3_endpoint=tripwire.endpoint
        ) as own,
    ):
        alice = own.client("alice")
        # Created through its own tracking server, so its artifacts go to its own
        # artifacts server, the one behind the relay.
        experiment_id = alice.create_experiment("team-s3-down")
        result = run(
            [
                "mlflow",
                "run",
                "iris",
                "-e",
                "train",
                "--env-manager",
                "local",
                "--experiment-id",
                experiment_id,
            ],
            own.env("alice"),
            timeout=600,
        )
        assert tripwire.fired.is_set(), "the step uploaded nothing, so S3 never went down"
        assert result.returncode != 0
        assert "Traceback" not in result.stderr.split("iris_workflow")[-1]
        assert (
            f"MLflow tracking at {own.uri} failed: the artifact store is unreachable"
            in result.stderr
        )
        (failed,) = alice.search_runs([experiment_id])
        assert failed.info.status == "FAILED"
        assert "the artifact store is unreachable" in failed.data.tags["lifecycle.failure_reason"]
    after = bucket_objects(postgres_server)
    assert {key: size for key, size in after.items() if key in objects_before} == objects_before
    # Every stored artifact still downloads, byte counts intact.
    s3 = postgres_server.stack.s3_client()
    for key, size in objects_before.items():
        assert s3.head_object(Bucket="mlflow", Key=key)["ContentLength"] == size


def test_only_a_runs_owner_writes_to_it(postgres_server: TeamServer) -> None:
    security.check_writes_need_ownership(postgres_server)


def test_an_owner_shuts_another_user_out_with_deny(postgres_server: TeamServer) -> None:
    security.check_owner_can_deny(postgres_server)


def test_the_tracking_server_cannot_be_made_to_read_the_bucket(postgres_server: TeamServer) -> None:
    security.check_the_tracking_server_cannot_read_the_bucket(postgres_server)


def test_only_the_server_chooses_artifact_locations(postgres_server: TeamServer) -> None:
    security.check_artifact_locations_are_the_servers(postgres_server)

"""The team server's security checks, run against each database variant of the stack.

Each function takes a running ``TeamServer`` (users alice and bob, default permission
READ) and asserts one part of what docs/team-server.md's security section promises: who may
write where, how an owner shuts another user out, that the tracking server cannot be
made to read the bucket, and that the server alone chooses artifact locations.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.stack.shared import USERS, TeamServer

SECRET_TEXT = b"alice's private numbers\n"


def auth(user: str) -> tuple[str, str]:
    return (user, USERS[user])


def api(server: TeamServer, method: str, endpoint: str, user: str, **kwargs) -> requests.Response:
    """One call to the tracking server's REST API as ``user`` (or as the stack's admin)."""
    version = "3.0" if endpoint.startswith("users/permissions") else "2.0"
    credentials = ("admin", server.stack.state.admin_password) if user == "admin" else auth(user)
    return requests.request(
        method,
        f"{server.uri}/api/{version}/mlflow/{endpoint}",
        auth=credentials,
        timeout=30,
        **kwargs,
    )


def ok(response: requests.Response) -> dict:
    assert response.status_code == 200, f"{response.status_code} {response.text[:500]}"
    return response.json()


@dataclass(frozen=True)
class OwnedRun:
    experiment_id: str
    run_id: str
    artifact_path: str  # under the artifacts server's mlflow-artifacts root

    def artifact_url(self, server: TeamServer) -> str:
        return (
            f"{server.stack.state.artifacts_uri}/api/2.0/mlflow-artifacts/artifacts/"
            f"{self.artifact_path}"
        )


def create_owned_run(server: TeamServer, user: str) -> OwnedRun:
    """An experiment and a run of ``user``'s, holding one uploaded artifact."""
    name = f"{user}-{secrets.token_hex(4)}"
    experiment_id = ok(api(server, "POST", "experiments/create", user, json={"name": name}))[
        "experiment_id"
    ]
    run = ok(api(server, "POST", "runs/create", user, json={"experiment_id": experiment_id}))
    run_id = run["run"]["info"]["run_id"]
    artifact_uri = run["run"]["info"]["artifact_uri"]
    root = server.stack.state.default_artifact_root
    assert artifact_uri.startswith(root), artifact_uri
    owned = OwnedRun(experiment_id, run_id, f"{artifact_uri[len(root) :].strip('/')}/secret.txt")
    upload = requests.put(owned.artifact_url(server), data=SECRET_TEXT, auth=auth(user), timeout=30)
    assert upload.status_code == 200, upload.text
    return owned


def run_state(server: TeamServer, run_id: str) -> tuple:
    """What a writer could change on a run, read straight from the database."""
    status = server.sql("SELECT status, lifecycle_stage FROM runs WHERE run_uuid = :r", r=run_id)
    tags = server.sql("SELECT * FROM tags WHERE run_uuid = :r", r=run_id)
    metrics = server.sql("SELECT COUNT(*) FROM metrics WHERE run_uuid = :r", r=run_id)
    return (tuple(status[0]), sorted(tags), metrics[0][0])


def writes_to(run_id: str) -> dict[str, tuple[str, str, dict]]:
    """Every kind of write to an existing run, as REST calls."""
    return {
        "log-batch": (
            "POST",
            "runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "loss", "value": 1.0, "timestamp": 1, "step": 0}],
                "tags": [{"key": "note", "value": "bob was here"}],
            },
        ),
        "set-tag": ("POST", "runs/set-tag", {"run_id": run_id, "key": "note", "value": "bob"}),
        "update": ("POST", "runs/update", {"run_id": run_id, "status": "KILLED"}),
        "delete": ("POST", "runs/delete", {"run_id": run_id}),
    }


def check_writes_need_ownership(server: TeamServer) -> None:
    """bob gets 403 for every write to alice's run, and it stays as it was; bob can do
    each of those writes to a run in his own experiment."""
    alices = create_owned_run(server, "alice")
    before = run_state(server, alices.run_id)
    for name, (method, endpoint, body) in writes_to(alices.run_id).items():
        answer = api(server, method, endpoint, "bob", json=body)
        assert answer.status_code == 403, f"bob {name} on alice's run: {answer.status_code}"
    assert run_state(server, alices.run_id) == before
    write = requests.put(
        alices.artifact_url(server).replace("secret.txt", "planted.txt"),
        data=b"x",
        auth=auth("bob"),
        timeout=30,
    )
    assert write.status_code == 403, write.text

    bobs = create_owned_run(server, "bob")
    for name, (method, endpoint, body) in writes_to(bobs.run_id).items():
        answer = api(server, method, endpoint, "bob", json=body)
        assert answer.status_code == 200, f"bob {name} on his own run: {answer.text[:300]}"
    status, _, metric_count = run_state(server, bobs.run_id)
    assert status == ("KILLED", "deleted")
    assert metric_count == 1


def check_owner_can_deny(server: TeamServer) -> None:
    """With default permission READ, bob reads alice's run and its files; once alice
    grants him DENY on her experiment (MLflow 3.17's /api/3.0/mlflow/users/permissions
    API), he reads neither, from the tracking server or the artifacts server; he cannot
    lift the DENY himself; revoking it restores READ."""
    alices = create_owned_run(server, "alice")
    read_run = ("GET", "runs/get", {"params": {"run_id": alices.run_id}})

    def bob_reads() -> tuple[int, int]:
        method, endpoint, kwargs = read_run
        run = api(server, method, endpoint, "bob", **kwargs).status_code
        files = requests.get(alices.artifact_url(server), auth=auth("bob"), timeout=30)
        if files.status_code == 200:
            assert files.content == SECRET_TEXT
        return run, files.status_code

    def root_listing(user: str) -> set[str]:
        """The experiment folders ``user`` sees at the artifacts server's root, asked
        both ways a client asks (no path, an empty path)."""
        url = f"{server.stack.state.artifacts_uri}/api/2.0/mlflow-artifacts/artifacts"
        seen = []
        credentials = (
            ("admin", server.stack.state.admin_password) if user == "admin" else auth(user)
        )
        for params in ({}, {"path": ""}):
            # A 503 says the listing could not be filtered just now and to try again (the
            # stack is shared by modules creating experiments meanwhile): a client retries,
            # a bounded number of times; a listing that stays refused fails the test.
            for _attempt in range(5):
                answer = requests.get(url, params=params, auth=credentials, timeout=30)
                if answer.status_code != 503:
                    break
                time.sleep(1)
            assert answer.status_code == 200, answer.text
            seen.append({entry["path"] for entry in answer.json().get("files", [])})
        assert seen[0] == seen[1]
        return seen[0]

    assert bob_reads() == (200, 200)
    assert alices.experiment_id in root_listing("bob")
    grant = {
        "username": "bob",
        "resource_type": "experiment",
        "resource_id": alices.experiment_id,
        "permission": "DENY",
    }
    assert api(server, "POST", "users/permissions/grant", "bob", json=grant).status_code == 403
    ok(api(server, "POST", "users/permissions/grant", "alice", json=grant))
    assert bob_reads() == (403, 403)
    # No trace of the experiment on the artifacts server: its id is not listed to bob.
    assert alices.experiment_id not in root_listing("bob")
    assert alices.experiment_id in root_listing("alice")
    assert alices.experiment_id in root_listing("admin")
    permission = ok(
        api(
            server,
            "GET",
            "users/permissions/get",
            "admin",
            params={key: grant[key] for key in ("username", "resource_type", "resource_id")},
        )
    )
    assert "DENY" in str(permission)
    revoke = {key: grant[key] for key in ("username", "resource_type", "resource_id")}
    assert api(server, "POST", "users/permissions/revoke", "bob", json=revoke).status_code == 403
    assert bob_reads() == (403, 403)
    ok(api(server, "POST", "users/permissions/revoke", "alice", json=revoke))
    assert bob_reads() == (200, 200)
    assert alices.experiment_id in root_listing("bob")
    # alice reads her own run throughout.
    assert api(server, "GET", "runs/get", "alice", params={"run_id": alices.run_id}).ok


def check_the_tracking_server_cannot_read_the_bucket(server: TeamServer) -> None:
    """The artifact bypass is closed: bob cannot register alice's files under a model
    he owns, and even a version that points at the bucket (one made before the guard,
    written here straight into the database) yields nothing through the tracking
    server, which holds no bucket keys."""
    alices = create_owned_run(server, "alice")
    grant = {
        "username": "bob",
        "resource_type": "experiment",
        "resource_id": alices.experiment_id,
        "permission": "DENY",
    }
    ok(api(server, "POST", "users/permissions/grant", "alice", json=grant))
    model = f"bobs-{secrets.token_hex(3)}"
    ok(api(server, "POST", "registered-models/create", "bob", json={"name": model}))
    bucket_uri = f"s3://mlflow/artifacts/{alices.artifact_path.rsplit('/', 1)[0]}"
    server_path = f"{server.stack.state.artifacts_uri}/api/2.0/mlflow-artifacts/artifacts"
    for source in (
        bucket_uri,
        f"file:///{alices.artifact_path}",
        f"{server_path}/{alices.artifact_path.rsplit('/', 1)[0]}",
        f"{server.stack.state.default_artifact_root}{alices.artifact_path.rsplit('/', 1)[0]}",
    ):
        answer = api(
            server, "POST", "model-versions/create", "bob", json={"name": model, "source": source}
        )
        assert answer.status_code == 400, (source, answer.status_code, answer.text[:300])
        assert "source" in answer.json()["message"]

    # A version already pointing at the bucket (made before the guard): bob registers a
    # run of his own, then the database row is pointed at alice's files.
    bobs = create_owned_run(server, "bob")
    ok(
        api(
            server,
            "POST",
            "model-versions/create",
            "bob",
            json={
                "name": model,
                "source": f"{server.stack.state.default_artifact_root}{bobs.artifact_path}",
                "run_id": bobs.run_id,
            },
        )
    )
    server.sql(
        "UPDATE model_versions SET source = :s, storage_location = :s, run_id = NULL "
        "WHERE name = :n",
        s=bucket_uri,
        n=model,
        write=True,
    )
    for route in (
        "/model-versions/get-artifact",
        "/ajax-api/2.0/mlflow/model-versions/get-artifact",
    ):
        answer = requests.get(
            f"{server.uri}{route}",
            params={"name": model, "version": "1", "path": "secret.txt"},
            auth=auth("bob"),
            timeout=30,
        )
        assert answer.status_code in (403, 404), (route, answer.status_code)
        assert SECRET_TEXT not in answer.content
        assert "Traceback" not in answer.text
    direct = requests.get(
        f"{server.uri}/get-artifact",
        params={"run_uuid": alices.run_id, "path": "secret.txt"},
        auth=auth("bob"),
        timeout=30,
    )
    assert direct.status_code in (403, 404)
    assert SECRET_TEXT not in direct.content
    # The reason: of the two servers, only the artifacts server has the bucket keys.
    assert "AWS_SECRET_ACCESS_KEY" not in process_environment(server.stack.state.pids["mlflow"])
    assert "AWS_SECRET_ACCESS_KEY" in process_environment(server.stack.state.pids["artifacts"])


def check_artifact_locations_are_the_servers(server: TeamServer) -> None:
    """No user chooses where an experiment's artifacts go: file:///etc, another bucket
    and another user's proxied path are refused with a 400 naming artifact_location."""
    alices = create_owned_run(server, "alice")
    for location in (
        "file:///etc",
        "s3://another-bucket/loot",
        f"mlflow-artifacts:/{alices.experiment_id}",
        f"{server.stack.state.default_artifact_root}{alices.experiment_id}",
        "/tmp/anywhere",
    ):
        answer = api(
            server,
            "POST",
            "experiments/create",
            "bob",
            json={"name": f"bob-{secrets.token_hex(4)}", "artifact_location": location},
        )
        assert answer.status_code == 400, (location, answer.status_code)
        assert "artifact_location" in answer.json()["message"]
    created = ok(
        api(
            server,
            "POST",
            "experiments/create",
            "bob",
            json={"name": f"bob-{secrets.token_hex(4)}"},
        )
    )
    experiment = ok(
        api(
            server,
            "GET",
            "experiments/get",
            "bob",
            params={"experiment_id": created["experiment_id"]},
        )
    )
    assert experiment["experiment"]["artifact_location"] == (
        f"{server.stack.state.default_artifact_root}{created['experiment_id']}"
    )


def process_environment(pid: int) -> str:
    """The environment a running process was started with, as text."""
    return Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b"\n").decode(errors="replace")

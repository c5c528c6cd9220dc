"""End to end on the team stack: ``python -m deploy.serve`` follows a model on a tracking
server of its own (on the shared stack's database and bucket), learns of a promotion
from MLflow's signed webhook long before its next poll, switches with no failed request
under load, refuses forged and stale deliveries, and keeps serving when the tracking
server is gone."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from deploy.auth_config import ADMIN_USERNAME
from deploy.processes import kill_group
from deploy.serve.load import Load
from lifecycle import contract
from tests.deploy.harness import Deployment
from tests.deploy.versions import REQUEST, register_toy
from tests.stack.shared import TeamServer, attached_server

pytestmark = pytest.mark.e2e
SECRET = secrets.token_urlsafe(24)
POLL_SECONDS = 600  # longer than the module: only a webhook can start a rollout


@dataclass
class Scene:
    server: TeamServer
    deployment: Deployment
    client: Any
    name: str
    versions: list[str]


@pytest.fixture(scope="module")
def scene(postgres_server: TeamServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    import mlflow

    root = tmp_path_factory.mktemp("deploy-on-stack")
    name = f"toy_{uuid.uuid4().hex[:8]}"
    with attached_server(postgres_server, root / "stack") as server:
        env = server.env("alice", MLFLOW_EXPERIMENT_NAME=f"deploy-{name}")
        with pytest.MonkeyPatch.context() as monkeypatch:
            for key, value in env.items():
                if key.startswith("MLFLOW_"):
                    monkeypatch.setenv(key, value)
            mlflow.set_tracking_uri(server.uri)
            deployment = None
            try:
                client = mlflow.MlflowClient(server.uri)
                versions = [
                    register_toy(client, name, factor=1),
                    register_toy(client, name, factor=2),
                ]
                client.set_registered_model_alias(name, "champion", versions[0])
                deployment = Deployment(
                    {**env, "DEPLOY_WEBHOOK_SECRET": SECRET},
                    root,
                    "--model", name, "--rollout", "switch", "--bake-seconds", "2",
                    "--poll-seconds", str(POLL_SECONDS),
                )  # fmt: skip
                deployment.wait("serving", lambda s: s["state"] == "serving")
                with monkeypatch.context() as admin:
                    admin.setenv("MLFLOW_TRACKING_USERNAME", ADMIN_USERNAME)
                    admin.setenv("MLFLOW_TRACKING_PASSWORD", server.stack.state.admin_password)
                    mlflow.MlflowClient(server.uri).create_webhook(
                        name=f"deploy-{name}",
                        url=f"{deployment.base}/webhooks/mlflow",
                        events=["model_version_alias.created"],
                        secret=SECRET,
                    )
                yield Scene(server, deployment, client, name, versions)
            finally:
                if deployment is not None and deployment.server.process.poll() is None:
                    deployment.server.stop()
                mlflow.set_tracking_uri(None)


def signed(body: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    delivery = str(uuid.uuid4())
    mac = hmac.new(secret.encode(), f"{delivery}.{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": str(timestamp),
        "X-MLflow-Signature": "v1," + base64.b64encode(mac.digest()).decode(),
    }


def test_forged_and_stale_webhooks_are_refused_and_change_nothing(scene: Scene):
    before = scene.deployment.status()
    url = f"{scene.deployment.base}/webhooks/mlflow"
    body = json.dumps(
        {
            "entity": "model_version_alias",
            "action": "created",
            "data": {"name": scene.name, "alias": "champion", "version": scene.versions[1]},
        }
    ).encode()
    now = int(time.time())
    cases = {
        "forged": signed(body, now, secret="not-the-secret"),
        "stale": signed(body, now - 301),
        "unsigned": {"Content-Type": "application/json"},
    }
    for what, headers in cases.items():
        answer = requests.post(url, data=body, headers=headers, timeout=10)
        assert answer.status_code == 401, (what, answer.text)
    time.sleep(1)
    after = scene.deployment.status()
    assert after["state"] == before["state"] == "serving"
    assert after["served_version"] == before["served_version"] == scene.versions[0]
    assert after["alias_version"] == scene.versions[0]  # no registry read was made


def test_a_webhook_starts_the_rollout_before_the_next_poll_with_no_failed_request(scene: Scene):
    first, second = scene.versions
    with Load(scene.deployment.base, REQUEST, clients=2) as load:
        time.sleep(0.5)
        moved = time.monotonic()
        scene.client.set_registered_model_alias(scene.name, "champion", second)
        status = scene.deployment.wait(
            "serving the promoted version",
            lambda s: s["state"] == "serving" and s["served_version"] == second,
            timeout=POLL_SECONDS / 4,
        )
        seconds = time.monotonic() - moved
        time.sleep(0.5)
    summary = load.summary()
    assert status["rollout"]["seen_by"] == "webhook"
    assert seconds < POLL_SECONDS / 4
    assert summary.failed == 0, summary.text()
    assert set(summary.by_version) == {first, second}, summary.text()
    tags = scene.client.get_model_version(scene.name, second).tags
    assert tags[contract.deploy("status")] == "serving"


def test_losing_the_tracking_server_keeps_the_served_version(scene: Scene):
    second = scene.versions[1]
    kill_group(scene.server.stack.state.pids["mlflow"])
    # A webhook (forged deliveries aside, only a poll or a delivery reads the registry)
    # is sent by hand, validly signed, to make the deployment read the dead server now.
    body = json.dumps({"entity": "model_version_alias", "action": "created", "data": {}}).encode()
    answer = requests.post(
        f"{scene.deployment.base}/webhooks/mlflow",
        data=body,
        headers=signed(body, int(time.time())),
        timeout=10,
    )
    assert answer.status_code == 200
    status = scene.deployment.wait(
        "saying the tracking server is gone",
        lambda s: "cannot be read" in s["reason"],
        timeout=180,
    )
    assert status["served_version"] == second
    assert f"still serving version {second}" in status["reason"]
    for _ in range(5):
        answer = requests.post(f"{scene.deployment.base}/invocations", json=REQUEST, timeout=30)
        assert answer.status_code == 200
        assert answer.headers["X-Model-Version"] == second
    code, left = scene.deployment.stop()
    assert code == 0, scene.deployment.log()
    assert left == []
    scene.server.stack.start_server()  # the stack is left as it was found

"""End to end: ``python -m deploy.serve`` behind HAProxy following ``models:/toy@champion``
on a sqlite store, in canary mode, with a bounded load client sending requests
throughout. The tests share one deployment and run in order, each from where the last
left it: the first champion, a canary promotion, a version that fails parity, a version
that starts failing after it takes traffic, the proxy's own refusals, and the stop."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from deploy.serve.load import Load
from lifecycle import contract
from tests.deploy.harness import Deployment
from tests.deploy.versions import REQUEST, register_toy
from tests.helpers import Store, open_store

pytestmark = pytest.mark.e2e
NAME = "toy"


@dataclass
class Scene:
    store: Store
    client: Any
    deployment: Deployment
    load: Load
    versions: dict[str, str]
    fail_flag: Path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Iterator[Scene]:
    import mlflow

    root = tmp_path_factory.mktemp("deploy")
    fail_flag = root / "broken"
    with pytest.MonkeyPatch.context() as monkeypatch:
        store = open_store(root, template_db, monkeypatch)
        client = mlflow.MlflowClient(store.uri)
        versions = {
            "first": register_toy(client, NAME, factor=1),
            "second": register_toy(client, NAME, factor=2),
            # Its golden answers were recorded with TOY_OFFSET=1; served without it,
            # it answers otherwise.
            "unfaithful": register_toy(
                client, NAME, factor=3, offset_variable="TOY_OFFSET", golden_env={"TOY_OFFSET": "1"}
            ),
            "failing": register_toy(client, NAME, factor=4, fail_flag=str(fail_flag)),
        }
        client.set_registered_model_alias(NAME, "champion", versions["first"])
        deployment = Deployment(
            store.env(),
            root,
            "--model", NAME, "--rollout", "canary", "--canary-steps", "10,50,100",
            "--canary-step-seconds", "3", "--bake-seconds", "4", "--poll-seconds", "0.5",
            "--min-requests", "5",
        )  # fmt: skip
        load = Load(deployment.base, REQUEST, clients=2)
        try:
            deployment.wait("serving", lambda s: s["state"] == "serving")
            load.start()
            yield Scene(store, client, deployment, load, versions, fail_flag)
        finally:
            load.stop()
            if deployment.server.process.poll() is None:
                deployment.server.stop()
            mlflow.set_tracking_uri(None)


def deploy_runs(scene: Scene, version: str) -> list:
    return [
        run
        for run in scene.client.search_runs(
            [scene.store.experiment_id],
            filter_string=f"tags.`{contract.STEP}` = 'deploy' "
            f"and tags.`{contract.deploy('version')}` = '{version}'",
        )
    ]


def test_the_first_champion_is_served_pinned_with_its_version_on_every_answer(scene: Scene):
    first = scene.versions["first"]
    status = scene.deployment.status()
    assert status["served_version"] == status["alias_version"] == first
    assert [p["version"] for p in status["processes"]] == [first]
    answer = requests.post(f"{scene.deployment.base}/invocations", json=REQUEST, timeout=30)
    assert answer.status_code == 200
    assert answer.json() == {"predictions": [1.0, 2.5]}
    assert answer.headers["X-Model-Version"] == first
    log = (scene.deployment.folder / "state" / f"model-v{first}.log").exists()
    assert log, "the model process's log is in the state folder"
    (run,) = deploy_runs(scene, first)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == f"{NAME} · deploy"
    assert run.data.tags[contract.deploy("parity")] == "passed"
    tags = scene.client.get_model_version(NAME, first).tags
    assert tags[contract.deploy("status")] == "serving"


def test_a_canary_promotion_steps_through_its_weights_with_no_failed_request(scene: Scene):
    first, second = scene.versions["first"], scene.versions["second"]
    before = scene.deployment.status()["processes"][0]["pid"]
    moved = time.monotonic()
    scene.client.set_registered_model_alias(NAME, "champion", second)
    weights: list[int] = []

    def done(status: dict) -> bool:
        weight = status["rollout"].get("weight")
        if status["rollout"].get("version") == second and weight not in (None, *weights[-1:]):
            weights.append(weight)
        return status["state"] == "serving" and status["served_version"] == second

    status = scene.deployment.wait("serving the second version", done)
    assert weights[:1] == [0], weights
    assert [w for w in weights if w] == [10, 50, 100], weights
    assert [p["version"] for p in status["processes"]] == [second]
    summary = scene.load.summary(since=moved)
    assert summary.failed == 0, summary.text()
    assert {first, second} <= set(summary.by_version), summary.text()
    # The old version took requests after the new one began to: it was kept warm, and
    # stopped by its PID only after the bake.
    from deploy.processes import alive

    assert not alive(before)
    latest = scene.load.since(time.monotonic() - 1)
    assert latest
    assert {a.version for a in latest} == {second}


def test_a_version_that_fails_parity_never_takes_traffic(scene: Scene):
    second, unfaithful = scene.versions["second"], scene.versions["unfaithful"]
    moved = time.monotonic()
    scene.client.set_registered_model_alias(NAME, "champion", unfaithful)
    status = scene.deployment.wait(
        "refusing the unfaithful version",
        lambda s: "failed parity" in s["reason"],
    )
    assert status["state"] == "serving"
    assert status["served_version"] == second
    assert status["alias_version"] == unfaithful
    assert [p["version"] for p in status["processes"]] == [second]
    summary = scene.load.summary(since=moved)
    assert summary.failed == 0, summary.text()
    assert set(summary.by_version) == {second}, summary.text()
    tags = scene.client.get_model_version(NAME, unfaithful).tags
    assert tags[contract.deploy("status")] == "refused"
    assert "golden answers differ" in tags[contract.deploy("reason")]
    (run,) = deploy_runs(scene, unfaithful)
    assert run.info.status == "FAILED"
    assert "failed parity" in run.data.tags[contract.FAILURE_REASON]
    assert str(scene.client.get_model_version_by_alias(NAME, "champion").version) == unfaithful
    # Refused once, it is not tried again while the alias names it.
    time.sleep(1.5)
    assert len(deploy_runs(scene, unfaithful)) == 1


def test_a_version_that_starts_failing_after_it_takes_traffic_is_rolled_back(scene: Scene):
    second, failing = scene.versions["second"], scene.versions["failing"]
    scene.client.set_registered_model_alias(NAME, "champion", failing)
    scene.deployment.wait(
        "giving the failing version traffic",
        lambda s: s["rollout"].get("version") == failing and s["rollout"].get("weight", 0) > 0,
    )
    scene.fail_flag.touch()
    status = scene.deployment.wait("rolled back", lambda s: s["state"] == "rolled_back")
    breach = time.monotonic()
    assert status["served_version"] == second
    assert status["alias_version"] == failing
    assert "5xx rate" in status["reason"], status["reason"]
    assert [p["version"] for p in status["processes"]] == [second]
    tags = scene.client.get_model_version(NAME, failing).tags
    assert tags[contract.deploy("status")] == "rolled_back"
    (run,) = deploy_runs(scene, failing)
    assert run.info.status == "FAILED"
    assert "rolled back" in run.data.tags[contract.FAILURE_REASON]
    assert "rollback_seconds" in run.data.metrics
    time.sleep(1.5)
    after = scene.load.summary(since=breach)
    assert after.failed == 0, after.text()
    assert set(after.by_version) == {second}, after.text()
    assert scene.deployment.status()["state"] == "rolled_back"
    # The alias is the registry's decision: never moved back.
    assert str(scene.client.get_model_version_by_alias(NAME, "champion").version) == failing


def test_the_proxy_refuses_what_no_model_should_see_and_names_the_version(scene: Scene):
    base = scene.deployment.base
    served = scene.deployment.status()["served_version"]
    body = json.dumps(REQUEST)
    cases = [
        ({"Content-Type": "text/csv"}, "x\n1\n", 415),
        ({}, body, 415),
        ({"Content-Type": "application/json"}, "[" + " " * (2 << 20) + "]", 413),
    ]
    for headers, data, expected in cases:
        answer = requests.post(f"{base}/invocations", data=data, headers=headers, timeout=30)
        assert answer.status_code == expected, (headers, answer.status_code, answer.text)
        assert answer.headers["X-Model-Version"] == served
    # A request larger than the proxy's buffer, under the cap, goes through whole.
    rows = 30_000
    big = {"dataframe_split": {"columns": ["x"], "data": [[1.0]] * rows}}
    answer = requests.post(f"{base}/invocations", json=big, timeout=60)
    assert answer.status_code == 200, answer.text[:300]
    assert len(answer.json()["predictions"]) == rows
    assert len(json.dumps(big)) > 3 * 64 * 1024
    answer = requests.get(f"{base}/status", timeout=10)
    assert answer.headers["X-Model-Version"] == served
    forged = requests.post(f"{base}/webhooks/mlflow", json={}, timeout=10)
    assert forged.status_code == 404  # no secret given: webhooks are off


def test_a_proxy_or_model_process_that_dies_is_restarted(scene: Scene):
    import os
    import signal

    from deploy.processes import wait_dead

    base = scene.deployment.base
    status = scene.deployment.status()
    served = status["served_version"]
    proxy = status["proxy"]["pid"]
    os.kill(proxy, signal.SIGKILL)
    assert wait_dead(proxy, 10)

    after = scene.deployment.wait(
        "with a new proxy", lambda s: s["proxy"]["pid"] != proxy, timeout=30
    )
    model = next(p["pid"] for p in after["processes"] if p["version"] == served)
    os.killpg(model, signal.SIGKILL)
    status = scene.deployment.wait(
        "with a new model process",
        lambda s: (
            [p["pid"] for p in s["processes"]] not in ([], [model]) and "restarted" in s["reason"]
        ),
    )
    assert status["served_version"] == served
    assert status["state"] == "rolled_back"  # the state the last rollout left
    answer = requests.post(f"{base}/invocations", json=REQUEST, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["X-Model-Version"] == served


def test_sigterm_stops_every_process_it_started(scene: Scene):
    scene.load.stop()
    code, left = scene.deployment.stop()
    assert code == 0, scene.deployment.log()
    assert left == []
    assert "Traceback" not in scene.deployment.log()

"""``python -m bench --part deploy``: what the serving deployment (``python -m deploy.serve``)
costs and how it behaves under load, side by side in one run.

- **The proxy's cost.** Requests/s and p99 through the deployment (HAProxy in front of
  one ``mlflow models serve`` process) against that process's own port, the same
  process, the same load (``bench.load``), alternated twice.
- **A promotion under constant load,** learnt by poll and then by webhook: failed
  requests, seconds from the alias move to the new version taking all new requests, and
  p99 during the switch against the seconds before it.
- **A rollback:** the new version's model process is killed during its bake; seconds
  from the kill to all traffic back on the old version, and failed requests.

Everything runs against a local ``mlflow server`` on an sqlite store with webhooks to
loopback allowed, with two iris versions registered by the register step (each with its
golden set): version 2 is promoted, then version 1 again, then version 2 is rolled back.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load import iris_payload, run_load
from bench.measure import Row
from deploy import processes
from deploy.serve.load import Load

logger = logging.getLogger("bench.deploy")
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
SECRET = secrets.token_urlsafe(24)
START_SECONDS = 180.0


@dataclass(frozen=True)
class DeployPlan:
    requests: int  # per proxy-cost measurement
    concurrency: int
    poll_seconds: float
    bake_seconds: float


FULL_DEPLOY = DeployPlan(requests=2000, concurrency=4, poll_seconds=10, bake_seconds=15)
QUICK_DEPLOY = DeployPlan(requests=60, concurrency=2, poll_seconds=2, bake_seconds=3)


def _status(base: str) -> dict[str, Any]:
    """The deployment's ``/status``. Read again, at most twice, after a 5xx: in one of
    several CI runs a read during a rollback got HAProxy's 502 (not reproduced since;
    the deployment logs what its control server raised)."""
    for attempt in range(3):
        try:
            with urllib.request.urlopen(f"{base}/status", timeout=10) as answer:
                return dict(json.load(answer))
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt == 2:
                raise
            logger.warning("/status answered %d; reading it again", error.code)
            time.sleep(0.2)
    raise AssertionError("not reached")


def _until(what: str, check: Callable[[], bool], timeout: float = 300) -> float:
    """Seconds until ``check()`` holds (polled every 20 ms); raises after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.02)
    raise RuntimeError(f"not {what} after {timeout:.0f} s")


def _tracking_server(folder: Path, env: dict[str, str]) -> processes.ServerProcess:
    port = processes.free_port()
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    server = processes.ServerProcess(
        [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
            "--artifacts-destination", str(folder / "artifacts"),
            "--host", "127.0.0.1", "--port", str(port),
        ],
        env={
            **env,
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
            "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
            "MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY": key,
            "MLFLOW_WEBHOOK_CACHE_TTL": "1",
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        },
        cwd=folder,
        log=folder / "tracking.log",
    )  # fmt: skip
    server.wait_http(f"http://127.0.0.1:{port}/health", START_SECONDS, "mlflow server")
    server.uri = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    return server


def _register_versions(env: dict[str, str], count: int) -> None:
    """Train iris once and register it ``count`` times: versions 1..count."""
    import re
    import subprocess

    cwd = REPOSITORY_ROOT / "iris"
    command = [sys.executable, "-m", "iris_workflow.cli"]
    trained = subprocess.run(
        [*command, "train"], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    found = re.search(r"run_id=([0-9a-f]{32})", trained.stdout + trained.stderr)
    assert found, trained.stderr[-2000:]
    for _ in range(count):
        subprocess.run(
            [*command, "register", "--model-uri", f"runs:/{found.group(1)}/model"],
            env=env, cwd=cwd, capture_output=True, text=True, check=True,
        )  # fmt: skip


def _promote(client: Any, base: str, version: str, load: Load) -> dict[str, float]:
    """Move the alias to ``version`` under ``load``; the switch's figures."""
    before = time.monotonic()
    time.sleep(2)
    moved = time.monotonic()
    client.set_registered_model_alias("iris", "champion", version)
    switch = _until("switched", lambda: _status(base)["served_version"] == version)
    settled = _until("serving", lambda: _status(base)["state"] == "serving")
    window = load.summary(since=moved)
    return {
        "seconds_to_switch": switch,
        "seconds_to_serving": switch + settled,
        "failed": float(window.failed),
        "p99_before_ms": load.summary(since=before).p99_ms or 0.0,
        "p99_during_ms": window.p99_ms or 0.0,
        "seen_by_webhook": float(_status(base)["rollout"].get("seen_by") == "webhook"),
    }


def _proxy_cost(direct: str, proxied: str, plan: DeployPlan) -> dict[str, float]:
    body = iris_payload(1)
    results: dict[str, list[Any]] = {"direct": [], "proxied": []}
    for url in (direct, proxied):
        run_load(url, body, min(20, plan.requests), 1)  # warm-up
    for _ in range(2):
        for name, url in (("direct", direct), ("proxied", proxied)):
            results[name].append(run_load(url, body, plan.requests, plan.concurrency))
    figures = {}
    for name, runs in results.items():
        figures[f"{name}_per_second"] = sum(r.per_second for r in runs) / len(runs)
        figures[f"{name}_p99_ms"] = sum(r.latency_ms(0.99) for r in runs) / len(runs)
    return figures


def measure_deploy(plan: DeployPlan, workdir: Path, env: dict[str, str]) -> tuple[list[Row], dict]:
    """Run the deployment benchmark; its rows and raw figures."""
    import mlflow

    tracking = _tracking_server(workdir, env)
    uri = tracking.uri  # type: ignore[attr-defined]
    client_env = {**env, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": "bench-deploy"}
    deployment = None
    try:
        logger.info("registering iris versions 1 and 2 on %s", uri)
        _register_versions(client_env, 2)
        client = mlflow.MlflowClient(uri)
        client.set_registered_model_alias("iris", "champion", "1")
        port = processes.free_port()
        deployment = processes.ServerProcess(
            [
                sys.executable, "-m", "deploy.serve", "--model", "iris", "--port", str(port),
                "--poll-seconds", str(plan.poll_seconds),
                "--bake-seconds", str(plan.bake_seconds), "--state-dir", str(workdir / "deploy"),
            ],
            env={**client_env, "DEPLOY_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(REPOSITORY_ROOT)},
            cwd=workdir,
            log=workdir / "deploy.log",
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        deployment.wait_http(f"{base}/status", 60, "deploy.serve")
        _until("serving version 1", lambda: _status(base)["state"] == "serving", START_SECONDS)
        direct = f"http://127.0.0.1:{_status(base)['processes'][0]['port']}"
        logger.info("measuring the proxy's cost")
        figures: dict[str, Any] = {"proxy": _proxy_cost(direct, base, plan)}
        request = json.loads(iris_payload(1))
        with Load(base, request, clients=2) as load:
            logger.info("promoting version 2 (learnt by poll)")
            figures["promotion_by_poll"] = _promote(client, base, "2", load)
            client.create_webhook(
                name="deploy-bench",
                url=f"{base}/webhooks/mlflow",
                events=["model_version_alias.created"],
                secret=SECRET,
            )
            time.sleep(1.5)  # past the tracking server's webhook cache
            logger.info("promoting version 1 again (learnt by webhook)")
            figures["promotion_by_webhook"] = _promote(client, base, "1", load)
            logger.info("rolling back: version 2's process killed during its bake")
            client.set_registered_model_alias("iris", "champion", "2")
            _until("baking version 2", lambda: _status(base)["state"] == "baking", START_SECONDS)
            victim = next(p["pid"] for p in _status(base)["processes"] if p["version"] == "2")
            killed = time.monotonic()
            os.killpg(victim, signal.SIGKILL)
            seconds = _until("rolled back", lambda: _status(base)["state"] == "rolled_back")
            time.sleep(1)
            figures["rollback"] = {
                "seconds": seconds,
                "failed": float(load.summary(since=killed).failed),
            }
        figures["load"] = {"requests": load.summary().requests, "failed": load.summary().failed}
    finally:
        if deployment is not None:
            deployment.stop()
        tracking.stop()
    return rows_of(figures, plan), figures


def rows_of(figures: dict[str, Any], plan: DeployPlan) -> list[Row]:
    proxy = figures["proxy"]
    share = proxy["proxied_per_second"] / proxy["direct_per_second"]
    added = proxy["proxied_p99_ms"] - proxy["direct_p99_ms"]
    rows = [
        Row(
            figure=f"deploy: through HAProxy vs the model process alone ({plan.requests} "
            f"1-row requests x2, {plan.concurrency} clients)",
            value=f"{proxy['proxied_per_second']:.0f} req/s, p99 {proxy['proxied_p99_ms']:.1f} ms",
            against=f"{proxy['direct_per_second']:.0f} req/s, p99 {proxy['direct_p99_ms']:.1f} ms",
            ratio=f"{share:.0%} of throughput, p99 {added:+.1f} ms",
            target=">= 85%, <= +2 ms",
            verdict="met" if share >= 0.85 and added <= 2 else "MISSED",
        )
    ]
    for how in ("poll", "webhook"):
        p = figures[f"promotion_by_{how}"]
        rows.append(
            Row(
                figure=f"deploy: a promotion under load, learnt by {how} "
                f"(poll every {plan.poll_seconds:g} s, bake {plan.bake_seconds:g} s)",
                value=f"{p['seconds_to_switch']:.1f} s to switch, "
                f"{p['seconds_to_serving']:.1f} s to serving",
                against=f"p99 {p['p99_during_ms']:.1f} ms during, {p['p99_before_ms']:.1f} before",
                target="0 failed",
                verdict="met" if p["failed"] == 0 else f"MISSED ({p['failed']:.0f} failed)",
            )
        )
    back = figures["rollback"]
    rows.append(
        Row(
            figure="deploy: a rollback (the new version's process killed during its bake)",
            value=f"{back['seconds']:.2f} s to all traffic on the old version",
            target="0 failed",
            verdict="met" if back["failed"] == 0 else f"MISSED ({back['failed']:.0f} failed)",
        )
    )
    return rows

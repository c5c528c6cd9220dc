"""Serve a registered model's champion behind HAProxy and follow it as it moves.

    MLFLOW_TRACKING_URI=http://127.0.0.1:5000 \\
        python -m deploy.serve --model iris --port 8000 --rollout canary

runs in the foreground: HAProxy on 127.0.0.1:<port> (``/invocations``, ``/status``,
``/webhooks/mlflow``), one ``mlflow models serve`` process per version it serves, and
the controller (``deploy.serve.controller``) that rolls each new version of
``models:/<model>@<alias>`` out. SIGTERM or SIGINT stops everything it started, by PID.
The webhook secret comes from ``DEPLOY_WEBHOOK_SECRET`` (not the command line, which
other users can read); without it, webhooks are answered 404 and the poll alone is used.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from deploy.processes import free_port
from deploy.serve.control_api import ControlServer
from deploy.serve.controller import ROLLOUTS, Controller, Settings
from deploy.serve.proxy import Limits, Proxy, ProxyError

logger = logging.getLogger("deploy.serve")
SECRET_VARIABLE = "DEPLOY_WEBHOOK_SECRET"


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be above 0")
        return value

    return parse


def _steps(text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not comma-separated percentages") from None
    if (
        not steps
        or steps[-1] != 100
        or any(not 0 < s <= 100 for s in steps)
        or list(steps) != sorted(set(steps))
    ):
        raise argparse.ArgumentTypeError(f"{text!r}: rising percentages ending at 100")
    return steps


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m deploy.serve", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="the registered model's name")
    p.add_argument("--port", type=int, required=True, help="the proxy's port on 127.0.0.1")
    p.add_argument("--alias", default="champion", help="the alias to follow (default champion)")
    p.add_argument(
        "--poll-seconds",
        type=_positive(float),
        default=15.0,
        help="how often the registry is read (default 15)",
    )
    p.add_argument(
        "--bake-seconds",
        type=_positive(float),
        default=60.0,
        help="how long the old version stays warm after a switch (default 60)",
    )
    p.add_argument("--rollout", choices=ROLLOUTS, default="switch")
    p.add_argument(
        "--canary-steps",
        type=_steps,
        default=(10, 50, 100),
        help="the new version's percentages in turn (default 10,50,100)",
    )
    p.add_argument("--canary-step-seconds", type=_positive(float), default=20.0)
    p.add_argument(
        "--max-error-rate",
        type=float,
        default=0.01,
        help="the 5xx rate that rolls a new version back (default 0.01)",
    )
    p.add_argument(
        "--max-p99-ms",
        type=_positive(float),
        default=500.0,
        help="the p99 that refuses or rolls back a new version (default 500)",
    )
    p.add_argument(
        "--min-requests",
        type=_positive(int),
        default=20,
        help="requests needed before a rate or p99 is judged (default 20)",
    )
    p.add_argument(
        "--workers",
        type=_positive(int),
        default=1,
        help="workers per model process (mlflow models serve --workers)",
    )
    p.add_argument("--env-manager", choices=("local", "uv", "virtualenv", "conda"), default="local")
    p.add_argument("--max-body-bytes", type=_positive(int), default=1 << 20)
    p.add_argument("--server-timeout-seconds", type=_positive(float), default=60.0)
    p.add_argument(
        "--state-dir",
        type=Path,
        help="where logs and the proxy's files go (default: a new temporary folder)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s deploy.serve %(message)s", datefmt="%H:%M:%S"
    )
    if not 0 <= args.max_error_rate < 1:
        logger.error("--max-error-rate=%s must be in [0, 1)", args.max_error_rate)
        return 2
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        logger.error("MLFLOW_TRACKING_URI is not set: name the tracking server to follow")
        return 2
    # The model downloads' progress bars would interleave with the deployment's lines.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    import mlflow

    settings = Settings(
        model=args.model,
        alias=args.alias,
        poll_seconds=args.poll_seconds,
        bake_seconds=args.bake_seconds,
        rollout=args.rollout,
        canary_steps=args.canary_steps,
        canary_step_seconds=args.canary_step_seconds,
        max_error_rate=args.max_error_rate,
        max_p99_ms=args.max_p99_ms,
        min_requests=args.min_requests,
        workers=args.workers,
        env_manager=args.env_manager,
    )
    folder = args.state_dir or Path(tempfile.mkdtemp(prefix="deploy-serve-"))
    folder.mkdir(parents=True, exist_ok=True)
    limits = Limits(max_body_bytes=args.max_body_bytes, server_seconds=args.server_timeout_seconds)
    proxy = Proxy(args.port, free_port(), folder, limits)
    controller = Controller(settings, proxy, mlflow.MlflowClient(), folder, dict(os.environ))
    secret = os.environ.get(SECRET_VARIABLE) or None
    control = ControlServer(proxy.control_port, controller.snapshot, controller.nudge, secret)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if not stop.is_set():
            logger.info(
                "%s: stopping everything this deployment started", signal.Signals(signum).name
            )
        stop.set()
        controller.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        started = proxy.start([], "none")
    except ProxyError as error:
        logger.error("%s", error)
        return 1
    try:
        assert started.stdout is not None
        controller.traffic.start_following(started.stdout)
        control.serve_in_thread()
        logger.info(
            "proxy on http://127.0.0.1:%d (pid %s); following models:/%s@%s; files in %s",
            args.port,
            proxy.pid,
            args.model,
            args.alias,
            folder,
        )
        thread = threading.Thread(target=controller.run, name="controller")
        thread.start()
        while thread.is_alive():
            thread.join(0.5)
    finally:
        controller.stop()
        control.shutdown()
        control.server_close()
        proxy.stop()
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

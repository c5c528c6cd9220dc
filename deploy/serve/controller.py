"""The deployment's decisions: follow ``models:/<name>@<alias>`` and roll each new
version out behind the proxy, or refuse it, or roll it back, keeping a version serving.

One thread makes every decision, in a loop of short ticks:
- **Learn where the alias points.** The registry is read every ``poll_seconds``, and at
  once when a verified webhook arrives. A registry that cannot be read is retried with
  a doubling wait (at most ``MAX_BACKOFF_SECONDS``), and what is served goes on.
- **Roll out.** The new version gets its own process (``deploy.serve.versions``), then
  ``/ping``, parity with its golden set and the latency burst, all before any traffic.
  ``switch`` then moves all new requests to it at once; ``canary`` gives it
  ``canary_steps`` percent in turn, each held ``canary_step_seconds``. At 100 % the old
  process stays warm, taking nothing, through ``bake_seconds``; then it finishes its
  requests in flight and is stopped by its PID.
- **Roll back.** While the new version takes traffic, a 5xx rate over
  ``max_error_rate`` or a p99 over ``max_p99_ms`` (over at least ``min_requests``), or
  its process dying, sends all traffic back to the old version. The state stays
  ``rolled_back`` until the alias names another version.
- **Supervise.** A model process or the proxy that dies while serving is restarted.

A version refused or rolled back is not tried again until the alias moves away from it.
A move of the alias during a rollout is seen when that rollout ends.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.serve import records, versions
from deploy.serve.proxy import NO_VERSION, Proxy, ProxyError, Server
from deploy.serve.records import REFUSED, ROLLED_BACK, SERVING, Rollout
from deploy.serve.traffic import Traffic
from deploy.serve.versions import ModelProcess, VersionRefusedError

logger = logging.getLogger(__name__)

STATES = ("serving", "rolling_out", "baking", "rolled_back", "waiting")
ROLLOUTS = ("switch", "canary")
TICK_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 60.0
DRAIN_SECONDS = 30.0
UP_SECONDS = 10.0  # for the proxy's health check to find a restarted process up
RESTART_WAIT_SECONDS = 10.0  # between two attempts to restart a dead model process


@dataclass(frozen=True)
class Settings:
    """How the deployment follows its alias and judges a new version."""

    model: str
    alias: str = "champion"
    poll_seconds: float = 15.0
    bake_seconds: float = 60.0
    rollout: str = "switch"
    canary_steps: tuple[int, ...] = (10, 50, 100)
    canary_step_seconds: float = 20.0
    max_error_rate: float = 0.01
    max_p99_ms: float = 500.0
    min_requests: int = 20
    burst_requests: int = 50
    burst_clients: int = 4
    workers: int = 1
    env_manager: str = "local"
    start_timeout: float = 180.0


@dataclass
class Status:
    """What ``/status`` shows."""

    served_version: str | None = None
    alias_version: str | None = None
    state: str = "waiting"
    reason: str = "starting: the registry has not been read yet"
    rollout: dict[str, Any] = field(default_factory=dict)


class BreachError(Exception):
    """The new version broke a threshold while taking traffic."""


class Controller:
    """Follows the alias, drives the proxy and owns every model process it started."""

    def __init__(
        self, settings: Settings, proxy: Proxy, client: Any, folder: Path, env: dict[str, str]
    ) -> None:
        self.settings = settings
        self.proxy = proxy
        self.client = client
        self.folder = folder
        self.env = env
        self.traffic = Traffic()
        self.processes: dict[str, ModelProcess] = {}
        self.weights: dict[str, int] = {}
        self.status = Status()
        self.given_up: set[str] = set()  # versions refused or rolled back, until the alias moves
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._woken_by_webhook = False
        self._stopping = threading.Event()
        self._next_poll = 0.0
        self._backoff = 0.0
        self._next_restart = 0.0

    # -- what others see and do ------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            status = self.status
            return {
                "model": self.settings.model,
                "alias": self.settings.alias,
                "served_version": status.served_version,
                "alias_version": status.alias_version,
                "state": status.state,
                "reason": status.reason,
                "rollout": dict(status.rollout),
                "proxy": {"pid": self.proxy.pid, "port": self.proxy.port},
                "processes": [
                    {
                        "version": p.version,
                        "pid": p.pid,
                        "port": p.port,
                        "weight": self.weights.get(p.version, 0),
                    }
                    for p in self.processes.values()
                ],
            }

    def nudge(self, delivery: Any) -> None:
        """A verified webhook: read the registry at the next tick (deliveries coalesce)."""
        if delivery.model in ("", self.settings.model):
            self._woken_by_webhook = True
            self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def _set(self, state: str | None = None, reason: str | None = None, **rollout: Any) -> None:
        with self._lock:
            if state is not None:
                self.status.state = state
            if reason is not None:
                if reason != self.status.reason:
                    logger.info("%s", reason)
                self.status.reason = reason
            if rollout:
                self.status.rollout.update(rollout)

    # -- the loop ----------------------------------------------------------------------
    def run(self) -> None:
        """Decide until ``stop``; then stop every model process started."""
        try:
            while not self._stopping.is_set():
                self._supervise()
                seen_by = self._due()
                if seen_by:
                    read, alias_version = self._read_alias()
                    if read:
                        self._reconcile(alias_version, seen_by)
                self._wake.wait(TICK_SECONDS)
        finally:
            for process in list(self.processes.values()):
                process.stop()
            self.processes.clear()

    def _due(self) -> str | None:
        if self._wake.is_set() and self._woken_by_webhook:
            self._wake.clear()
            self._woken_by_webhook = False
            return "webhook"
        self._wake.clear()
        if time.monotonic() >= self._next_poll:
            return "poll" if self.status.served_version or self.given_up else "start"
        return None

    def _read_alias(self) -> tuple[bool, str | None]:
        """Whether the registry could be read (if not, the next read waits longer), and
        the version the alias names (None: no such alias)."""
        from mlflow.exceptions import MlflowException

        name, alias = self.settings.model, self.settings.alias
        try:
            version = str(self.client.get_model_version_by_alias(name, alias).version)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                version = None
            else:
                return self._unreachable(error), None
        except Exception as error:  # a server that is down raises what its transport raises
            return self._unreachable(error), None
        self._backoff = 0.0
        self._next_poll = time.monotonic() + self.settings.poll_seconds
        with self._lock:
            self.status.alias_version = version
        return True, version

    def _unreachable(self, error: Exception) -> bool:
        self._backoff = min(MAX_BACKOFF_SECONDS, max(1.0, 2 * self._backoff))
        self._next_poll = time.monotonic() + self._backoff
        text = str(error).strip()
        first = text.splitlines()[0][:200] if text else type(error).__name__
        served = self.status.served_version
        keep = f"still serving version {served}" if served else "nothing to serve yet"
        self._set(
            None,
            f"the tracking server cannot be read ({first}); {keep}; "
            f"retrying in {self._backoff:.0f} s",
        )
        return False

    def _reconcile(self, alias_version: str | None, seen_by: str) -> None:
        served = self.status.served_version
        alias = f"models:/{self.settings.model}@{self.settings.alias}"
        self.given_up &= {alias_version} if alias_version else set()
        if alias_version is None:
            if served:
                self._set("serving", f"{alias} names no version; still serving version {served}")
            else:
                self._set("waiting", f"no champion yet: {alias} names no version; waiting")
            return
        if alias_version == served:
            self._set("serving", f"serving version {served}, the version {alias} names")
            return
        if alias_version in self.given_up:
            return
        self._roll_out(alias_version, seen_by)

    # -- a rollout ---------------------------------------------------------------------
    def _roll_out(self, version: str, seen_by: str) -> None:
        settings = self.settings
        old = self.status.served_version
        rollout = Rollout(settings.model, version, old, settings.rollout, seen_by)
        started = time.monotonic()
        self._set(
            "rolling_out",
            f"version {version} (seen by {seen_by}): starting its model process",
            version=version,
            previous=old,
            mode=settings.rollout,
            weight=0,
            seen_by=seen_by,
        )
        process = None
        try:
            cases = versions.golden_cases(self.client, settings.model, version)
            process = versions.start(
                settings.model,
                version,
                self.folder,
                self.env,
                settings.workers,
                settings.env_manager,
                settings.start_timeout,
            )
            rollout.metrics["start_seconds"] = time.monotonic() - started
            with self._lock:
                self.processes[version] = process
            self._set(None, f"version {version}: checking parity with its golden set")
            rollout.note("parity", "failed")
            versions.parity(process.base, version, cases)
            rollout.note("parity", "passed")
            rollout.metrics["golden_requests"] = len(cases)
            self._set(None, f"version {version}: parity passed; latency burst")
            rollout.metrics["burst_p99_ms"] = versions.latency(
                process,
                cases[0]["request"],
                settings.burst_requests,
                settings.burst_clients,
                settings.max_p99_ms,
            )
            self.proxy.add(Server(version, process.port))
            self.weights[version] = 0
        except (VersionRefusedError, ProxyError) as error:
            self._retire(process)
            self._give_up(version, rollout, REFUSED, str(error), old)
            return
        if old is None:
            self._shift(version, None, 100)
            self._serving(version, rollout, started)
            return
        steps = (100,) if settings.rollout == "switch" else settings.canary_steps
        try:
            for weight in steps:
                self._shift(version, old, weight)
                if weight < 100:
                    self._set(
                        "rolling_out",
                        f"canary: version {version} takes {weight}% "
                        f"for {settings.canary_step_seconds:g} s",
                        weight=weight,
                    )
                    self._watch(process, settings.canary_step_seconds)
            rollout.metrics["switch_seconds"] = time.monotonic() - started
            self._set(
                "baking",
                f"version {version} takes all traffic; version {old} stays "
                f"warm for the {settings.bake_seconds:g} s bake",
                weight=100,
            )
            self._watch(process, settings.bake_seconds)
        except BreachError as breach:
            back = time.monotonic()
            self._shift(old, version, 100)
            rollout.metrics["rollback_seconds"] = time.monotonic() - back
            self._retire(process)
            self._give_up(
                version,
                rollout,
                ROLLED_BACK,
                f"version {version} rolled back to version {old}: {breach}",
                old,
            )
            return
        self._retire(self.processes.get(old))
        self._serving(version, rollout, started)

    def _shift(self, to: str, away: str | None, weight: int) -> None:
        """``to`` takes ``weight`` % of new requests and ``away`` the rest."""
        self.proxy.weigh(to, weight)
        self.weights[to] = weight
        if away is not None:
            self.proxy.weigh(away, 100 - weight)
            self.weights[away] = 100 - weight
        if weight == 100:
            self.proxy.announce(to)
            with self._lock:
                self.status.served_version = to
            self.proxy.drop_warm(to)
            if away is not None:
                self.proxy.keep_warm(Server(away, self.processes[away].port))

    def _watch(self, process: ModelProcess, seconds: float) -> None:
        """Hold for ``seconds``, raising ``BreachError`` as soon as a threshold is broken."""
        settings = self.settings
        since = time.monotonic()
        deadline = since + seconds
        while time.monotonic() < deadline and not self._stopping.is_set():
            if not process.alive():
                raise BreachError(f"its model process (pid {process.pid}) died")
            window = self.traffic.window(process.version, since)
            if window.requests >= settings.min_requests:
                if window.error_rate > settings.max_error_rate:
                    limit = f"{settings.max_error_rate:.1%}"
                    raise BreachError(f"5xx rate over {limit}: {window.text()}")
                if window.p99_ms is not None and window.p99_ms > settings.max_p99_ms:
                    raise BreachError(f"p99 over {settings.max_p99_ms:g} ms: {window.text()}")
            time.sleep(TICK_SECONDS)

    def _retire(self, process: ModelProcess | None) -> None:
        """Let ``process`` finish its requests in flight, take it out of the proxy and
        stop it by its PID."""
        if process is None:
            return
        version = process.version
        if version in self.weights:
            deadline = time.monotonic() + DRAIN_SECONDS
            try:
                while self.proxy.in_flight(version) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.proxy.remove(version)
            except ProxyError as error:
                logger.warning("version %s left in the proxy: %s", version, error)
            self.weights.pop(version, None)
        process.stop()
        with self._lock:
            self.processes.pop(version, None)

    def _serving(self, version: str, rollout: Rollout, started: float) -> None:
        rollout.metrics["rollout_seconds"] = time.monotonic() - started
        reason = f"serving version {version}"
        if rollout.previous:
            reason += f" (was version {rollout.previous}; {rollout.rollout})"
        rollout.note("decision", SERVING)
        records.record(self.client, rollout, SERVING, reason)
        self._set("serving", reason, weight=100, decision=SERVING)

    def _give_up(
        self, version: str, rollout: Rollout, status: str, reason: str, old: str | None
    ) -> None:
        self.given_up.add(version)
        state = "rolled_back" if status == ROLLED_BACK else ("serving" if old else "waiting")
        keep = f"; still serving version {old}" if old else "; nothing is served"
        rollout.note("decision", status)
        records.record(self.client, rollout, status, reason)
        self._set(state, reason + (keep if status == REFUSED else ""), decision=status)

    # -- supervision -------------------------------------------------------------------
    def _supervise(self) -> None:
        if not self.proxy.alive():
            self._restart_proxy()
        served = self.status.served_version
        process = self.processes.get(served) if served else None
        if (
            process is not None
            and not process.alive()
            and self.status.state in ("serving", "rolled_back")
        ):
            self._restart_process(process)

    def _restart_proxy(self) -> None:
        servers = [
            Server(p.version, p.port, self.weights.get(p.version, 0))
            for p in self.processes.values()
            if p.version in self.weights
        ]
        code = self.proxy.process.returncode if self.proxy.process else None
        try:
            lines = self.proxy.start(servers, self.status.served_version or NO_VERSION)
            assert lines.stdout is not None
            self.traffic.start_following(lines.stdout)
            logger.warning("the proxy exited (%s) and was restarted (pid %s)", code, self.proxy.pid)
        except ProxyError as error:
            self._set(None, f"the proxy exited and could not be restarted: {error}")

    def _restart_process(self, dead: ModelProcess) -> None:
        version = dead.version
        if time.monotonic() < self._next_restart:
            return
        self._next_restart = time.monotonic() + RESTART_WAIT_SECONDS
        self._set(None, f"version {version}'s model process (pid {dead.pid}) died; restarting it")
        process = None
        try:
            process = versions.start(
                self.settings.model,
                version,
                self.folder,
                self.env,
                self.settings.workers,
                self.settings.env_manager,
                self.settings.start_timeout,
            )
            self.proxy.move(version, process.port)
            if not self.proxy.wait_up(version, UP_SECONDS):
                raise ProxyError(f"the proxy's health check did not find it up in {UP_SECONDS:g} s")
        except (VersionRefusedError, ProxyError) as error:
            if process is not None:
                process.stop()
            self._set(
                None,
                f"version {version}'s model process died and did not restart: {error}; "
                f"trying again in {RESTART_WAIT_SECONDS:g} s",
            )
            return
        with self._lock:
            self.processes[version] = process
        self._set(
            None, f"serving version {version} (its model process restarted as pid {process.pid})"
        )

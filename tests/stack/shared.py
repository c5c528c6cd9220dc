"""One team stack for the whole test run, shared by every module that can share it.

The main pytest process starts it, in a thread while the workers start and run other
tests, hands its folder to the xdist workers (``workerinput``), and stops it at the
end, checking that nothing of it is left: no process, no port answering, no database.
Its modules run side by side on the workers: a test that takes a server down does so
to servers of its own on the stack's database and bucket (``attached_server``), never to
the shared ones, and each module registers its models under names of its own. Without
xdist the one process plays both parts.

A module that needs another stack starts its own (``start_team_server``): MySQL's
tracking server cannot share PostgreSQL's database.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.stack import Stack
from tests.helpers import VENV_BIN

USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
# Fail fast when the server is gone, instead of MLflow's two-minute retry schedule.
CLIENT_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
WORKER_KEY = "team_stack_dir"
# The modules that share the stack: the main process starts it when a run selects one.
SHARING = ("test_front_door.py", "test_spark_on_stack.py", "test_team_server.py")
READY, FAILED = "ready", "failed"
START_WAIT_SECONDS = 900.0
_STASH = pytest.StashKey["SharedStack"]()


@dataclass
class TeamServer:
    stack: Stack

    @property
    def uri(self) -> str:
        """The clients' tracking URI (the front door when the stack has one)."""
        return self.stack.state.client_uri

    def env(self, user: str, **extra: str) -> dict[str, str]:
        """A client environment logging in as ``user``."""
        env = self.stack.client_environment(user, USERS[user])
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        env.pop("PYTHONPATH", None)
        env.update(CLIENT_RETRIES)
        env.update(extra)
        return env

    def client(self, user: str):
        """An MlflowClient logged in as ``user`` (credentials from a scoped environment)."""
        import mlflow

        return AuthenticatedClient(mlflow.MlflowClient(tracking_uri=self.uri), user)

    def sql(self, query: str, database: str = "tracking", write: bool = False, **params) -> list:
        """Rows of ``query`` on the tracking database, or on the auth database; with
        ``write``, the statement is committed and nothing is returned."""
        import sqlalchemy

        state = self.stack.state
        uri = state.auth_database_uri if database == "auth" else state.database_uri
        engine = sqlalchemy.create_engine(uri)
        try:
            if write:
                with engine.begin() as connection:
                    connection.execute(sqlalchemy.text(query), params)
                return []
            with engine.connect() as connection:
                return connection.execute(sqlalchemy.text(query), params).fetchall()
        finally:
            engine.dispose()


class AuthenticatedClient:
    """Calls an MlflowClient with MLFLOW_TRACKING_USERNAME/PASSWORD set for ``user`` only
    for the duration of each call."""

    def __init__(self, client, user: str) -> None:
        self._client = client
        self._user = user

    def __getattr__(self, name: str):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            saved = {key: os.environ.get(key) for key in _CREDENTIALS}
            os.environ["MLFLOW_TRACKING_USERNAME"] = self._user
            os.environ["MLFLOW_TRACKING_PASSWORD"] = USERS[self._user]
            try:
                return method(*args, **kwargs)
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

        return call


_CREDENTIALS = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


class SharedStack:
    """The run's PostgreSQL stack, in ``directory``: started once, read by the workers,
    stopped once."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._thread: threading.Thread | None = None

    def start_in_background(self) -> None:
        """Start the stack and its users in a thread; the folder says when it is
        ready, or why it failed."""

        def start() -> None:
            try:
                stack = Stack(self.directory / "stack")
                stack.up("postgres")
                for user, password in USERS.items():
                    stack.create_user(user, password)
                (self.directory / READY).write_text("")
            except BaseException:
                (self.directory / FAILED).write_text(traceback.format_exc())

        self._thread = threading.Thread(target=start, name="team-stack", daemon=True)
        self._thread.start()

    def wait(self, timeout: float = START_WAIT_SECONDS) -> TeamServer:
        """The running stack, once it is ready (bounded); its start's failure otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.directory / FAILED).exists():
                pytest.fail(f"the shared team stack did not start:\n{self.failure()}")
            if (self.directory / READY).exists():
                return TeamServer(Stack(self.directory / "stack"))
            time.sleep(0.5)
        pytest.fail(f"the shared team stack was not ready within {timeout:.0f} s")

    def failure(self) -> str:
        path = self.directory / FAILED
        return path.read_text()[-4000:] if path.exists() else ""

    def stop(self) -> list[str]:
        """Stop the stack and drop its databases; what is left of it, if anything."""
        if self._thread is not None:
            self._thread.join(timeout=START_WAIT_SECONDS)
        if not (self.directory / "stack" / "stack.json").exists():
            return []
        stack = Stack(self.directory / "stack")  # as the workers left it (restarts)
        started = processes_of(stack)
        ports = stack_ports(stack)
        databases = list(stack.state.database_names)
        stack.down(drop_databases=True)
        return leftovers(started, ports, databases, stack)


def wanted(config: pytest.Config) -> bool:
    """Whether this run selects tests that use the shared stack: its arguments name
    them (or a folder above them), and no marker expression leaves the e2e tier out."""
    if "not e2e" in (config.option.markexpr or ""):
        return False
    root = Path(config.rootpath)
    stack_dir = root / "tests" / "stack"
    named = config.args or list(config.getini("testpaths"))
    for arg in named:
        path = (root / str(arg).split("::", 1)[0]).resolve()
        if path == stack_dir or stack_dir.is_relative_to(path):
            return True
        if path.is_relative_to(stack_dir) and path.name in SHARING:
            return True
    return False


def configure(config: pytest.Config) -> None:
    """In the main process: start the shared stack when the run needs it."""
    if hasattr(config, "workerinput") or not wanted(config):
        return
    import tempfile

    shared = SharedStack(Path(tempfile.mkdtemp(prefix="team-stack-")))
    shared.start_in_background()
    config.stash[_STASH] = shared


def hand_to_worker(config: pytest.Config, workerinput: dict[str, object]) -> None:
    """In the main process, for each xdist worker it starts: the stack's folder."""
    shared = config.stash.get(_STASH, None)
    if shared is not None:
        workerinput[WORKER_KEY] = str(shared.directory)


def finish(config: pytest.Config) -> list[str]:
    """In the main process, at the end: stop the stack; what is left of it."""
    shared = config.stash.get(_STASH, None)
    return shared.stop() if shared is not None else []


def shared_server(config: pytest.Config, fallback: Path) -> Iterator[TeamServer]:
    """The run's shared stack as a worker (or a run without xdist) sees it; a stack of
    its own, in ``fallback``, when the main process started none."""
    handed = getattr(config, "workerinput", {}).get(WORKER_KEY)
    shared = SharedStack(Path(handed)) if handed else config.stash.get(_STASH, None)
    if shared is not None:
        yield shared.wait()
        return
    yield from start_team_server(fallback, "postgres")


def start_team_server(
    directory: Path, database: str, front_door: bool = False
) -> Iterator[TeamServer]:
    """A stack of its own with users alice and bob; after it, ``down`` must leave no
    process of it alive, no port of it answering, and none of its databases."""
    stack = Stack(directory)
    stack.up(database, front_door=front_door)
    try:
        for user, password in USERS.items():
            stack.create_user(user, password)
        yield TeamServer(stack)
    finally:
        started = processes_of(stack)
        ports = stack_ports(stack)
        databases = list(stack.state.database_names)
        stack.down(drop_databases=True)
    problems = leftovers(started, ports, databases, stack)
    assert not problems, "; ".join(problems)


@contextlib.contextmanager
def attached_server(
    base: TeamServer, directory: Path, front_door: bool = False, s3_endpoint: str | None = None
) -> Iterator[TeamServer]:
    """Servers of their own on ``base``'s databases and bucket (``Stack.attach``),
    stopped after, leaving ``base`` as it was: what a test that takes a server down, or
    another topology, puts on the run's shared stack."""
    stack = Stack(directory)
    stack.attach(base.stack.state, front_door=front_door, s3_endpoint=s3_endpoint)
    try:
        yield TeamServer(stack)
    finally:
        started = processes_of(stack)
        ports = stack_ports(stack)
        stack.down()
    problems = leftovers(started, ports, [], stack)
    assert not problems, "; ".join(problems)


def stack_ports(stack: Stack) -> list[int]:
    state = stack.state
    return [
        state.tracking_port,
        state.artifacts_port,
        *(state.weed_ports.values() if "s3" in state.pids else ()),
        *([state.front_door_port] if state.front_door_port else []),
    ]


def processes_of(stack: Stack) -> dict[str, list[int]]:
    """Each recorded process with every process in its group (the servers' workers)."""
    return {name: [pid, *group_members(pid)] for name, pid in stack.state.pids.items()}


def group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group and int(entry.name) != group:
                    members.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return members


def leftovers(
    started: dict[str, list[int]], ports: list[int], databases: list[str], stack: Stack
) -> list[str]:
    """What a stopped stack left behind: processes, answering ports, databases."""
    from lifecycle import processes

    problems = []
    if not {"mlflow", "artifacts"} <= set(started):
        problems.append(f"the stack recorded no servers: {started}")
    # The MLflow servers run workers; SeaweedFS and the front door are one process each.
    if not all(len(started.get(name, [])) >= 2 for name in ("mlflow", "artifacts")):
        problems.append(f"a server ran no workers: {started}")
    alive = {
        name: [pid for pid in pids if processes.is_running(pid)] for name, pids in started.items()
    }
    if any(alive.values()):
        problems.append(f"still running after down: {alive}")
    for port in ports:
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                problems.append(f"port {port} still answers")
    if stack.state.pids:
        problems.append(f"pids still recorded: {stack.state.pids}")
    if databases:
        base = stack.state.database_uri.rsplit("/", 1)[0]
        left = set(databases) & existing_databases(base)
        if left:
            problems.append(f"databases left: {left}")
    return problems


def existing_databases(server_url: str) -> set[str]:
    import sqlalchemy

    if server_url.startswith("postgresql"):
        query, url = "SELECT datname FROM pg_database", server_url + "/postgres"
    else:
        query, url = "SHOW DATABASES", server_url + "/mysql"
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(sqlalchemy.text(query))}
    finally:
        engine.dispose()

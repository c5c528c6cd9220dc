"""Fixtures for the team-server tests: a loopback stack (MLflow with basic-auth, a fresh
database, SeaweedFS for artifacts) per module, with two users, stopped by PID after."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.stack import Stack
from tests.helpers import VENV_BIN

USERS = {"alice": "alice-secret-1", "bob": "bob-secret-2"}
# Fail fast when the server is gone, instead of MLflow's two-minute retry schedule.
CLIENT_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


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


def start_team_server(
    directory: Path, database: str, front_door: bool = False
) -> Iterator[TeamServer]:
    """A stack with users alice and bob; after the module, ``down`` must leave no process
    of it alive, no port of it answering, and none of its databases."""
    stack = Stack(directory)
    stack.up(database, front_door=front_door)
    try:
        for user, password in USERS.items():
            stack.create_user(user, password)
        yield TeamServer(stack)
    finally:
        started = processes_of(stack)
        ports = [
            stack.state.tracking_port,
            stack.state.artifacts_port,
            *stack.state.weed_ports.values(),
            *([stack.state.front_door_port] if stack.state.front_door_port else []),
        ]
        databases = list(stack.state.database_names)
        stack.down(drop_databases=True)
    assert_stopped(started, ports, databases, stack)


def processes_of(stack: Stack) -> dict[str, list[int]]:
    """Each recorded process with every process in its group (the servers' workers)."""
    groups = {}
    for name, pid in stack.state.pids.items():
        groups[name] = [pid, *group_members(pid)]
    return groups


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


def assert_stopped(
    started: dict[str, list[int]], ports: list[int], databases: list[str], stack: Stack
) -> None:
    assert set(started) >= {"mlflow", "artifacts", "s3"}, started
    # The MLflow servers run workers; SeaweedFS and the front door are one process each.
    assert all(len(started[name]) >= 2 for name in ("mlflow", "artifacts")), started
    alive = {name: [pid for pid in pids if running(pid)] for name, pids in started.items()}
    assert not any(alive.values()), f"still running after down: {alive}"
    for port in ports:
        with socket.socket() as sock:
            sock.settimeout(1)
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers"
    assert stack.state.pids == {}
    base = stack.state.database_uri.rsplit("/", 1)[0]
    remaining = existing_databases(base)
    assert not set(databases) & remaining, f"databases left: {set(databases) & remaining}"


def running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


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


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    yield from start_team_server(tmp_path_factory.mktemp("postgres-stack"), "postgres")


@pytest.fixture(scope="module")
def mysql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    yield from start_team_server(tmp_path_factory.mktemp("mysql-stack"), "mysql")

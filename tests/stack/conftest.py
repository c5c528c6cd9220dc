"""Fixtures for the team-server tests: a loopback stack (MLflow with basic-auth, a fresh
database, SeaweedFS for artifacts) per module, with two users, stopped by PID after."""

from __future__ import annotations

import os
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
        return self.stack.state.tracking_uri

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

    def sql(self, query: str, database: str = "tracking", **params) -> list:
        """Rows of ``query`` on the tracking database, or on the auth database."""
        import sqlalchemy

        state = self.stack.state
        uri = state.auth_database_uri if database == "auth" else state.database_uri
        engine = sqlalchemy.create_engine(uri)
        try:
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


def start_team_server(directory: Path, database: str) -> Iterator[TeamServer]:
    stack = Stack(directory)
    stack.up(database)
    try:
        for user, password in USERS.items():
            stack.create_user(user, password)
        yield TeamServer(stack)
    finally:
        stack.down(drop_databases=True)
        for pid in (stack.state.pids if stack.state else {}).values():
            raise AssertionError(f"process {pid} of the stack is still recorded as running")


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    yield from start_team_server(tmp_path_factory.mktemp("postgres-stack"), "postgres")


@pytest.fixture(scope="module")
def mysql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    yield from start_team_server(tmp_path_factory.mktemp("mysql-stack"), "mysql")

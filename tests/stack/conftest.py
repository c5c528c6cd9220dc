"""Fixtures for the team-server tests: the run's shared loopback stack (MLflow with
basic-auth, PostgreSQL, SeaweedFS for artifacts; ``tests.stack.shared``) with users alice
and bob, and a MySQL stack of its own for the module that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stack.shared import TeamServer, shared_server, start_team_server


@pytest.fixture(scope="session")
def postgres_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TeamServer]:
    """The run's shared PostgreSQL stack (started by the main pytest process)."""
    yield from shared_server(request.config, tmp_path_factory.mktemp("postgres-stack"))


@pytest.fixture(scope="module")
def mysql_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamServer]:
    """A stack of its own: MySQL's tracking server cannot share PostgreSQL's database."""
    yield from start_team_server(tmp_path_factory.mktemp("mysql-stack"), "mysql")

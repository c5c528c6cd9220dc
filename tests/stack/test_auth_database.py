"""``python -m deploy.auth_database``, which the AWS migration task runs first, against
the machine's real PostgreSQL and MariaDB: it creates the auth database once, leaves an
existing one alone, and refuses URIs it must not turn into SQL."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy

from deploy import auth_database
from deploy.stack import DATABASE_SERVERS
from tests.stack.shared import existing_databases


@pytest.fixture(params=sorted(DATABASE_SERVERS))
def new_database_uri(request: pytest.FixtureRequest) -> Iterator[tuple[str, str, str]]:
    server = DATABASE_SERVERS[request.param]
    name = f"auth_test_{uuid.uuid4().hex[:10]}"
    yield server, name, f"{server}/{name}"
    engine = sqlalchemy.create_engine(
        server + ("/postgres" if server.startswith("postgresql") else ""),
        isolation_level="AUTOCOMMIT",
    )
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"DROP DATABASE IF EXISTS {name}"))
    engine.dispose()


def test_the_auth_database_is_created_once(new_database_uri: tuple[str, str, str]) -> None:
    server, name, uri = new_database_uri
    assert name not in existing_databases(server)
    done = subprocess.run(
        [sys.executable, "-m", "deploy.auth_database", uri],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"database {name} created" in done.stderr
    assert name in existing_databases(server)
    assert auth_database.ensure_database(uri) is False  # a second run changes nothing


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("sqlite:///auth.db", "'sqlite' databases are not supported"),
        ("postgresql+psycopg2://u@127.0.0.1:5432/", "database name ''"),
        ('postgresql+psycopg2://u@127.0.0.1:5432/x";DROP', "must be letters, digits"),
    ],
)
def test_uris_it_must_not_act_on_are_refused(uri: str, message: str) -> None:
    with pytest.raises(auth_database.DatabaseUriError, match=message):
        auth_database.target(uri)
    assert auth_database.main([uri]) == 2

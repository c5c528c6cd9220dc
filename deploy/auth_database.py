"""Creates the basic-auth database named in a URI when it does not exist yet.

The Compose stack makes it with ``postgres-init.sql`` when its volume is new; a managed
database (RDS on AWS) has no such hook, so the migration task runs
``python -m deploy.auth_database "$AUTH_DATABASE_URI"`` first. It connects to the same
server as the same user, creates the database if missing, and changes nothing else.
"""

from __future__ import annotations

import logging
import re
import sys

import sqlalchemy
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

# Database names are put into a CREATE DATABASE statement, so only plain names pass.
SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
MAINTENANCE_DATABASE = {"postgresql": "postgres", "mysql": None}


class DatabaseUriError(ValueError):
    """The URI names no database, an unsupported engine, or an unsafe database name."""


def target(uri: str) -> tuple[URL, str, str]:
    """The server URL to connect to, the database to ensure, and the engine family."""
    url = make_url(uri)
    family = url.get_backend_name()
    if family not in MAINTENANCE_DATABASE:
        raise DatabaseUriError(
            f"{family!r} databases are not supported here: use postgresql or mysql"
        )
    name = url.database or ""
    if not SAFE_NAME.match(name):
        raise DatabaseUriError(
            f"the URI's database name {name!r} must be letters, digits and underscores"
        )
    # URL.set() ignores None, so the database is replaced on the tuple itself.
    return url._replace(database=MAINTENANCE_DATABASE[family]), name, family


def ensure_database(uri: str) -> bool:
    """Create the URI's database if it is missing; True if it was created."""
    server_url, name, family = target(uri)
    engine = sqlalchemy.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if family == "postgresql":
                exists = connection.execute(
                    sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": name},
                ).first()
            else:
                exists = connection.execute(
                    sqlalchemy.text(
                        "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"
                    ),
                    {"name": name},
                ).first()
            if exists:
                logger.info("database %s exists", name)
                return False
            quoted = f'"{name}"' if family == "postgresql" else f"`{name}`"
            connection.execute(sqlalchemy.text(f"CREATE DATABASE {quoted}"))
            logger.info("database %s created", name)
            return True
    finally:
        engine.dispose()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(argv) != 1:
        sys.stderr.write("usage: python -m deploy.auth_database <database URI>\n")
        return 2
    try:
        ensure_database(argv[0])
    except DatabaseUriError as error:
        sys.stderr.write(f"auth database: {error}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The basic-auth configuration both team servers read (``MLFLOW_AUTH_CONFIG_PATH``).

One source for the loopback stack (``deploy/stack.py``) and the Compose stack, whose
containers run ``python -m deploy.auth_config <path>`` before starting a server; the
auth database URI comes from ``AUTH_DATABASE_URI`` there, since it holds a password.
Every user defaults to READ; users log in through ``deploy.server_guard``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ADMIN_USERNAME = "admin"
GUARD = "deploy.server_guard:authenticate_request"


def render(database_uri: str) -> str:
    """The ini text for an auth database at ``database_uri``."""
    return (
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {database_uri}\n"
        f"admin_username = {ADMIN_USERNAME}\n"
        f"authorization_function = {GUARD}\n"
        "auth_cache_ttl_seconds = 60\n"
    )


def write(path: Path, database_uri: str) -> None:
    """Write the configuration readable by its owner only (it names the database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(render(database_uri))


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not os.environ.get("AUTH_DATABASE_URI"):
        sys.stderr.write("usage: AUTH_DATABASE_URI=... python -m deploy.auth_config <path>\n")
        return 2
    write(Path(argv[0]), os.environ["AUTH_DATABASE_URI"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

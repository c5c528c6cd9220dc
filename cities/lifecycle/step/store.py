# Generated from lifecycle/step/store.py by python -m lifecycle.sync; edit the source.
"""A brand-new sqlite tracking store, created once however many steps start at once.

Several processes that open a sqlite store which does not exist yet each run MLflow's
migrations on it, and all but one die with a raw SQL error (``duplicate column name``)
or leave it corrupt. ``prepare_tracking_store`` makes the steps take turns: under an
exclusive lock on ``<database>.lock`` beside the database, the first creates the store
and the others wait, then find it ready. Any other store is left to MLflow.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_SECONDS = 300.0
LOCK_POLL_SECONDS = 0.1


class StoreBusyError(RuntimeError):
    """Another process held the store's creation lock for too long."""


def sqlite_path(tracking_uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, or None for any other store."""
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    location = tracking_uri[len(prefix) :].split("?", 1)[0]
    if not location or location == ":memory:":
        return None
    return Path(location)


def is_ready(database: Path) -> bool:
    """Whether ``database`` holds a store whose migrations have recorded a version."""
    if not database.exists() or database.stat().st_size == 0:
        return False
    try:
        read_only = f"{database.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(read_only, uri=True)) as db:
            (count,) = db.execute("SELECT count(*) FROM alembic_version").fetchone()
            return int(count) > 0
    except sqlite3.Error:
        return False


def prepare_tracking_store(tracking_uri: str | None = None) -> None:
    """Create the sqlite store named by ``tracking_uri`` (default: MLflow's current one)
    if it is new, one process at a time; return at once when it is ready."""
    import mlflow

    uri = tracking_uri or mlflow.get_tracking_uri()
    database = sqlite_path(uri)
    if database is None or is_ready(database):
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    with _exclusive(database.with_name(database.name + ".lock")):
        if is_ready(database):  # another step created it while this one waited
            return
        logger.info("creating the tracking store %s", uri)
        from mlflow.tracking._tracking_service.utils import _get_store

        # MLflow creates the tables and migrates them to its version.
        _get_store(uri)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    import fcntl

    with open(lock_path, "a") as handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreBusyError(
                        f"another process has been creating the tracking store for "
                        f"{LOCK_TIMEOUT_SECONDS:.0f} s (lock {lock_path}); if none is, "
                        "delete the lock file and try again"
                    ) from None
                time.sleep(LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

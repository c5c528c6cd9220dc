"""A brand-new sqlite tracking store is created once: a step that finds another one
creating it waits for it, then finds it ready."""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from lifecycle.step import store


def test_only_sqlite_files_are_prepared() -> None:
    assert store.sqlite_path("sqlite:///mlflow.db") == Path("mlflow.db")
    assert store.sqlite_path("sqlite:////tmp/x/mlflow.db?timeout=5") == Path("/tmp/x/mlflow.db")
    assert store.sqlite_path("sqlite:///:memory:") is None
    assert store.sqlite_path("postgresql://h/db") is None
    assert store.sqlite_path("http://127.0.0.1:5000") is None


def test_a_new_store_is_created_and_then_left_alone(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "mlflow.db"
    assert not store.is_ready(database)
    store.prepare_tracking_store(f"sqlite:///{database}")
    assert store.is_ready(database)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM experiments").fetchone()[0] == 1
    modified = database.stat().st_mtime_ns
    store.prepare_tracking_store(f"sqlite:///{database}")
    assert database.stat().st_mtime_ns == modified


def test_a_step_waits_while_another_creates_the_store(tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    lock = tmp_path / "mlflow.db.lock"
    finished = threading.Event()
    errors: list[BaseException] = []

    def second_step() -> None:
        try:
            store.prepare_tracking_store(f"sqlite:///{database}")
        except BaseException as error:  # reported below
            errors.append(error)
        finished.set()

    with open(lock, "a") as held:  # the "first step", creating the store
        fcntl.flock(held, fcntl.LOCK_EX)
        waiter = threading.Thread(target=second_step)
        waiter.start()
        time.sleep(1.0)
        assert not finished.is_set(), "the second step did not wait for the lock"
        assert not database.exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    waiter.join(timeout=60)
    assert finished.is_set()
    assert errors == []
    assert store.is_ready(database)


def test_a_lock_held_too_long_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "LOCK_TIMEOUT_SECONDS", 0.3)
    lock = tmp_path / "mlflow.db.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(store.StoreBusyError, match="another process has been creating"):
            store.prepare_tracking_store(f"sqlite:///{tmp_path / 'mlflow.db'}")

"""A stop that arrives inside a store call is held until that call returns, then raised
into the code that called it; anywhere else it is raised at once."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import pytest

from lifecycle import stopping

# A stand-in for MLflow's database store: a function whose frame runs in a module of
# that name and that calls back into the test mid-call, as a signal would arrive.
STORE_SOURCE = """
def write(during, done):
    during()
    done.append("written")
    return "written"
"""


def store_function(module: str):
    namespace: dict[str, object] = {"__name__": module}
    exec(compile(STORE_SOURCE, f"<{module}>", "exec"), namespace)
    return namespace["write"]


@pytest.fixture(autouse=True)
def no_overdue_timer(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The overdue resend would signal the test process itself: recorded instead."""
    sent: list[int] = []
    monkeypatch.setattr(stopping, "_send_when_overdue", sent.append)
    yield sent
    stopping._HELD.clear()
    sys.setprofile(None)


def signal_here(signum: int = signal.SIGTERM) -> None:
    """Deliver ``signum``'s handler with the caller's frame, as Python does."""
    caller: FrameType | None = sys._getframe(1)
    stopping._interrupt(signum, caller)


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        ("sqlalchemy.orm.session", True),
        ("alembic.runtime.migration", True),
        ("mlflow.store.db.utils", True),
        ("mlflow.store.tracking.sqlalchemy_store", True),
        ("mlflow.store.model_registry.dbmodels.models", True),
        ("mlflow.store.tracking.rest_store", False),
        ("mlflow.store.artifact.local_artifact_repo", False),
        ("mlflow.tracking.fluent", False),
        ("pandas.core.frame", False),
        ("sqlalchemy_utils_lookalike", False),
    ],
)
def test_store_modules_are_the_database_stores(module: str, expected: bool) -> None:
    assert stopping.is_store_module(module) is expected


def test_a_stop_outside_a_store_call_is_raised_at_once() -> None:
    with pytest.raises(KeyboardInterrupt, match="stopped by SIGTERM"):
        signal_here()
    assert stopping._HELD == []


def test_a_stop_inside_a_store_call_waits_for_it_to_return(no_overdue_timer: list[int]) -> None:
    write = store_function("mlflow.store.tracking.sqlalchemy_store")
    done: list[str] = []
    after: list[str] = []

    def caller() -> None:
        write(lambda: signal_here(signal.SIGINT), done)
        after.append("the caller went on")

    with pytest.raises(KeyboardInterrupt, match="stopped by SIGINT"):
        caller()
    assert done == ["written"], "the store call was cut short"
    assert after == [], "the stop was not raised as the store call returned"
    assert stopping._HELD == []
    assert sys.getprofile() is None, "the profile hook was left behind"
    assert no_overdue_timer == [signal.SIGINT]


def test_the_stop_waits_for_the_outermost_store_call() -> None:
    inner = store_function("sqlalchemy.engine.base")
    outer = store_function("mlflow.store.db.utils")
    inner_done: list[str] = []
    outer_done: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        outer(lambda: inner(signal_here, inner_done), outer_done)
    assert inner_done == ["written"]
    assert outer_done == ["written"]


def test_a_second_signal_while_held_does_not_cut_the_call() -> None:
    write = store_function("mlflow.store.db.utils")
    done: list[str] = []

    def two_signals() -> None:
        signal_here()
        signal_here(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt, match="stopped by SIGTERM"):
        write(two_signals, done)
    assert done == ["written"]


def test_an_overdue_store_call_is_stopped_where_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stopping, "DEFER_LIMIT_SECONDS", 0.0)
    write = store_function("mlflow.store.db.utils")
    done: list[str] = []

    def held_then_overdue() -> None:
        signal_here()
        signal_here()  # the resend once the limit has passed

    with pytest.raises(KeyboardInterrupt, match="stopped by SIGTERM"):
        write(held_then_overdue, done)
    assert done == []
    assert sys.getprofile() is None

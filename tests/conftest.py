"""Shared fixtures: an isolated sqlite tracking store per test, copied from a template
whose schema is created once per session; and the project folders on the import path."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.sync import project_folders
from tests.helpers import Store, open_store
from tests.stack import shared

# Every project folder's package is importable by the tests, found as the orchestrator
# finds projects; after the repository root, so the root's step kit is the one loaded.
_ROOT = str(Path(__file__).resolve().parents[1])
_AFTER_ROOT = sys.path.index(_ROOT) + 1 if _ROOT in sys.path else len(sys.path)
for _folder in reversed(project_folders()):
    if str(_folder) not in sys.path:
        sys.path.insert(_AFTER_ROOT, str(_folder))


def pytest_configure(config: pytest.Config) -> None:
    """The main process starts the run's shared team stack, if the run needs it."""
    shared.configure(config)


@pytest.hookimpl(optionalhook=True)  # xdist's hook (in the main process), absent without it
def pytest_configure_node(node) -> None:
    shared.hand_to_worker(node.config, node.workerinput)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The static tier's tests carry the ``static`` marker (``-m "not static"`` skips it).

    The tests run in the order of ``testpaths`` (pytest collects a directory's files in
    its own order, whatever the order given): each test goes where the most specific
    entry naming it stands, so the slowest files, listed first, start first.
    """
    for item in items:
        if "tests/static/" in item.nodeid:
            item.add_marker(pytest.mark.static)
    order = config.getini("testpaths")

    def position(item: pytest.Item) -> tuple[int, int]:
        path = item.nodeid.split("::", 1)[0]
        matches = [
            (len(entry), index)
            for index, entry in enumerate(order)
            if path == entry or path.startswith(entry.rstrip("/") + "/")
        ]
        return (0, max(matches)[1]) if matches else (1, 0)

    items.sort(key=position)  # stable: within an entry, pytest's own order


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sqlite store with MLflow's schema, created once; tests copy it.

    Creating the schema takes about a second and must not happen in several processes
    at once, so it is done here, before any test starts a worker.
    """
    import mlflow

    path = tmp_path_factory.mktemp("template") / "mlflow.db"
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def store(tmp_path: Path, template_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A fresh store for this test, also made the current one for in-process calls."""
    import mlflow

    yield open_store(tmp_path, template_db, monkeypatch)
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def datasets_mirror() -> Path:
    """The local mirror of the pinned datasets, named by DATASETS_MIRROR.

    Tests on the real data need it; without it they fail (never skip), with a message
    that says how to provide it.
    """
    value = os.environ.get("DATASETS_MIRROR", "")
    path = Path(value).expanduser().resolve() if value else None
    if path is None or not path.is_dir():
        pytest.fail(
            f"DATASETS_MIRROR={value!r} is not a directory: point it at a mirror of the "
            f"pinned datasets (<mirror>/gold_prices/XAU_1d_data.csv, ...); see datasets/README.md"
        )
    return path


_skipped: list[str] = []
_stack_left: list[str] = []
# Where the suite's time goes, by file (set-up, call and teardown, summed over workers).
_seconds_by_file: dict[str, float] = {}
SLOWEST_FILES = 15


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)
    path = report.nodeid.split("::", 1)[0]
    _seconds_by_file[path] = _seconds_by_file.get(path, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test fails the session: a missing service must not turn CI green. The
    main process stops the shared team stack; anything it leaves fails the session."""
    if _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    left = shared.finish(session.config)
    if left:
        _stack_left.extend(left)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if _seconds_by_file:
        total = sum(_seconds_by_file.values())
        terminalreporter.write_sep("=", f"slowest {SLOWEST_FILES} files (worker time)")
        slowest = sorted(_seconds_by_file.items(), key=lambda item: -item[1])
        for path, seconds in slowest[:SLOWEST_FILES]:
            terminalreporter.write_line(f"{seconds:8.1f}s {100 * seconds / total:5.1f}%  {path}")
        terminalreporter.write_line(f"{total:8.1f}s in all, over every worker")
    if _stack_left:
        terminalreporter.write_line(
            "FAILED: the shared team stack left: " + "; ".join(_stack_left), red=True
        )
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) skipped, and skips fail this suite: "
            + ", ".join(_skipped),
            red=True,
        )

"""What a step or the orchestrator shows on the terminal, and the full log it keeps.

By default the terminal shows the collection's own lines (a long step's progress, what a
step decided, its result line, its warnings) and every library's errors. MLflow's INFO
and WARNING lines, what it prints while it registers a model, its artifact progress
bars and Python's warnings go to the log only. ``-v`` (``--verbose``) or
``LIFECYCLE_VERBOSE=1`` shows everything at DEBUG, progress bars included; the steps an
orchestrator runs inherit the variable. A step the
orchestrator runs gets ``LIFECYCLE_QUIET=1`` and shows only its warnings and errors:
the orchestrator prints a line as each step starts and ends.

Whatever the terminal shows, every record at INFO (DEBUG with ``-v``) goes to a file,
which the step stores with its run as ``logs/<name>.log`` (``keep_log``).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

VERBOSE_ENV = "LIFECYCLE_VERBOSE"
QUIET_ENV = "LIFECYCLE_QUIET"
# MLflow's own switch for the tqdm bars of artifact downloads and uploads.
PROGRESS_BARS_ENV = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
# MLflow's own variables, set (unless verbose) for this process and those it starts.
QUIET_MLFLOW = {
    PROGRESS_BARS_ENV: "false",
    "MLFLOW_LOGGING_LEVEL": "WARNING",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
OWN = ("lifecycle", "orchestrator")
# The loggers MLflow configures with a handler of its own and no propagation; they are
# routed through these handlers once MLflow is imported (``adopt_library_loggers``).
LIBRARY_LOGGERS = ("mlflow", "alembic", "sqlalchemy.engine", "huey")
WARNINGS_LOGGER = "py.warnings"
TERMINAL_ONLY = "lifecycle_terminal"  # a record attribute: False keeps it off the terminal
LOG_ARTIFACT_DIR = "logs"
_CONFIGURED: dict[str, object] = {}


def flag(name: str) -> bool:
    """Whether environment variable ``name`` is set to a true value."""
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def verbose_requested(verbose: bool = False) -> bool:
    """``-v`` given, or ``LIFECYCLE_VERBOSE`` set."""
    return verbose or flag(VERBOSE_ENV)


class TerminalFilter(logging.Filter):
    """What the terminal shows: everything when verbose; else the collection's own
    records from INFO (from WARNING under the orchestrator) and every library's errors."""

    def __init__(self, verbose: bool, quiet: bool, own: Sequence[str]) -> None:
        super().__init__()
        self.verbose, self.quiet, self.own = verbose, quiet, tuple(own)

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, TERMINAL_ONLY, True):
            return False
        if self.verbose:
            return True
        if record.name == WARNINGS_LOGGER:
            return False
        if record.name.split(".", 1)[0] not in self.own:
            return record.levelno >= logging.ERROR
        return record.levelno >= (logging.WARNING if self.quiet else logging.INFO)


class TerminalFormatter(logging.Formatter):
    """``14:02:07 iris · score: 250,000 of ...`` for the collection's own INFO lines;
    level and logger for the rest."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        self.plain = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno == logging.INFO:
            return self.plain.format(record)
        return super().format(record)


def configure(verbose: bool = False, own: Sequence[str] = ()) -> Path:
    """Set up the terminal and the log file for this process, once; returns the log
    file. ``own`` adds the caller's package to the collection's own loggers."""
    if "log" in _CONFIGURED:
        return Path(str(_CONFIGURED["log"]))
    verbose = verbose_requested(verbose)
    quiet = flag(QUIET_ENV) and not verbose
    if not verbose:
        # Also for the processes this one starts (Spark's Python workers): MLflow's
        # bars, its INFO lines and the run links it prints when a run ends.
        for name, value in QUIET_MLFLOW.items():
            os.environ.setdefault(name, value)
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(TerminalFormatter())
    terminal.addFilter(TerminalFilter(verbose, quiet, (*OWN, *own)))
    handle, name = tempfile.mkstemp(prefix="lifecycle-", suffix=".log")
    os.close(handle)
    keeper = logging.FileHandler(name, encoding="utf-8")
    keeper.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(terminal)
    root.addHandler(keeper)
    logging.captureWarnings(True)
    _CONFIGURED.update(log=name, verbose=verbose, quiet=quiet)
    return Path(name)


def adopt_library_loggers() -> None:
    """Route MLflow's loggers (configured by MLflow at import with a handler of their
    own) through this process's terminal filter and log file. Call once MLflow is
    imported; a no-op before ``configure``."""
    if "log" not in _CONFIGURED:
        return
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers = []
        library.propagate = True
        if name == "mlflow" and _CONFIGURED.get("verbose"):
            library.setLevel(logging.DEBUG)


def verbose() -> bool:
    """Whether this process shows everything (``-v`` or ``LIFECYCLE_VERBOSE``)."""
    return bool(_CONFIGURED.get("verbose", flag(VERBOSE_ENV)))


def quiet_children() -> None:
    """For a process that starts steps (the orchestrator): its steps show only warnings
    and errors, or everything when this process does (``LIFECYCLE_VERBOSE``)."""
    if verbose():
        os.environ[VERBOSE_ENV] = "1"
        os.environ.pop(QUIET_ENV, None)
    else:
        os.environ[QUIET_ENV] = "1"
        for name, value in QUIET_MLFLOW.items():
            os.environ.setdefault(name, value)


def quiet() -> bool:
    """Whether this process runs quietly (a step under the orchestrator)."""
    return bool(_CONFIGURED.get("quiet", flag(QUIET_ENV)))


def result(line: str) -> None:
    """A step's result line: printed (unless the step runs under the orchestrator,
    which prints its own), and kept in the log."""
    logging.getLogger("lifecycle.result").info("%s", line, extra={TERMINAL_ONLY: False})
    if not quiet():
        click.echo(line)


@contextlib.contextmanager
def printed_to_log(what: str) -> Iterator[None]:
    """What a library prints to the terminal meanwhile (MLflow's ``Successfully
    registered model ...``) goes to the log instead, unless this process is verbose."""
    if verbose():
        yield
        return
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured), contextlib.redirect_stdout(captured):
            yield
    finally:
        text = captured.getvalue().strip()
        if text:
            logging.getLogger(__name__).info("%s printed: %s", what, text)


def keep_log(run_id: str, name: str) -> None:
    """Store this process's log with run ``run_id`` as ``logs/<name>.log``. Never
    raises: the log is a record of the step, not its outcome."""
    path = _CONFIGURED.get("log")
    if not path or not run_id:
        return
    try:
        import mlflow

        for handler in logging.getLogger().handlers:
            handler.flush()
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "step"
        target = Path(tempfile.mkdtemp(prefix="lifecycle-log-")) / f"{safe}.log"
        target.write_bytes(Path(str(path)).read_bytes())
        mlflow.MlflowClient().log_artifact(run_id, str(target), LOG_ARTIFACT_DIR)
    except Exception:
        logging.getLogger(__name__).debug("could not store the log with run %s", run_id)

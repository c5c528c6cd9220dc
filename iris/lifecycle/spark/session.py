# Generated from lifecycle/spark/session.py by python -m lifecycle.sync; edit the source.
"""The Spark session every Spark step uses, on any master URL (``local[*]`` on a laptop,
``spark://``, ``yarn`` or ``k8s://`` on a cluster): Java checked first, a ``spark://``
master checked to answer, the session bound to 127.0.0.1 with its UI off when local,
this kit and the project's package shipped to the executors, the data source of
``lifecycle.spark.source`` registered, and the session's jobs cancelled by a companion
thread when the step is asked to stop. Also ``parallel_map``, the simplest job: a
function over a list of items (a tuning grid)."""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from lifecycle import stop
from lifecycle.spark.source import register_source

T = TypeVar("T")
R = TypeVar("R")

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from pyspark.accumulators import Accumulator
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)
# PySpark 4.3 warns on every use with pandas 3; the engine's results are tested.
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)

JAVA_MINIMUM = 17
JAVA_INSTALL = (
    "install it with `sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or "
    "`brew install openjdk@17` (macOS), or use engine=pandas / engine=local"
)
# Rows per Arrow batch between the JVM and Python (Spark's default is 10,000).
ARROW_BATCH_ROWS = 100_000


class SparkUnavailableError(RuntimeError):
    """Spark cannot start here (no Java, or one too old); the message says what to do."""


def java_version() -> int | None:
    """The major version of the ``java`` Spark would run (JAVA_HOME first), or None."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        answer = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', answer.stderr + answer.stdout)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java() -> None:
    """Fail at once, saying so, when Spark's Java is missing or older than 17."""
    found = java_version()
    if found is None:
        raise SparkUnavailableError(
            f"engine=spark needs Java {JAVA_MINIMUM} or newer and none was found: " + JAVA_INSTALL
        )
    if found < JAVA_MINIMUM:
        raise SparkUnavailableError(
            f"engine=spark needs Java {JAVA_MINIMUM} or newer; the java found is {found}: "
            + JAVA_INSTALL
        )


def check_master(master: str, timeout: float = 5.0) -> None:
    """Fail at once, naming it, when a ``spark://`` master does not answer; Spark itself
    would retry for minutes and then stop with a Java stack trace."""
    import socket

    if not master.startswith("spark://"):
        return
    refusals = []
    for address in master.removeprefix("spark://").split(","):
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host or address, int(port or 7077)), timeout):
                return
        except (OSError, ValueError) as error:
            refusals.append(getattr(error, "strerror", None) or str(error))
    raise SparkUnavailableError(
        f"Spark master {master} is not reachable ({'; '.join(refusals)}): start it, or use "
        f"spark_master=local[*]"
    )


def session(master: str, app_name: str, packages: tuple[str, ...] = ()) -> SparkSession:
    """The process's Spark session (an active one is reused, whatever its master), with
    this kit and ``packages`` shipped to its executors before any Python function or data
    source is defined: Spark hands each Python function the files shipped before it."""
    require_java()
    check_master(master)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        ship_packages(active, *packages)
        register_source(active)
        return active
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        # The score step writes its own completion marker, last.
        .config("spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
        .config("spark.hadoop.parquet.enable.summary-metadata", "false")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    # PySpark's context replaces the process's SIGINT handler with one that raises into
    # whatever runs; the step's own (a recorded stop) is put back.
    handler = signal.getsignal(signal.SIGINT)
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # py4j or Spark: the session could not start
        raise SparkUnavailableError(
            f"Spark could not start on {master}: {first_line(error)}"
        ) from error
    finally:
        if threading.current_thread() is threading.main_thread() and handler is not None:
            signal.signal(signal.SIGINT, handler)
    spark.sparkContext.setLogLevel("ERROR")
    # py4j logs each broken call with its stack trace, on its own and on the root logger;
    # the step reports the failure as one line of its own.
    logging.getLogger("py4j").setLevel(logging.CRITICAL)
    if not any(isinstance(f, _Py4JTraces) for f in logging.root.filters):
        logging.root.addFilter(_Py4JTraces())
    cancel_on_stop(spark)
    ship_packages(spark, *packages)
    register_source(spark)
    return spark


def cancel_on_stop(spark: SparkSession) -> None:
    """A companion thread that cancels the session's running jobs as soon as a stop is
    asked for (``lifecycle.stop``): the main thread, waiting on a job, then gets the
    job's failure and raises the stop (``raise_if_stopped``)."""
    context = spark.sparkContext
    if getattr(context, "_lifecycle_cancels", False):
        return

    def cancel() -> None:
        # The JVM may be gone already: py4j then logs a stack trace on the root logger,
        # which is not the user's to read.
        previous = logging.root.manager.disable
        logging.disable(logging.CRITICAL)
        try:
            context.cancelAllJobs()
        finally:
            logging.disable(previous)

    stop.on_stop(cancel, name="spark-job-canceller")
    context._lifecycle_cancels = True  # type: ignore[attr-defined]


def raise_if_stopped(error: BaseException) -> None:
    """Raise the stop, if one was asked for: ``error`` (a cancelled job, a broken py4j
    connection) is then what the stop did, not a failure of its own."""
    if stop.requested():
        raise stop.Stopped(stop.reason()) from None


class _Py4JTraces(logging.Filter):
    """Drops what py4j logs through the root logger (its stack traces)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"{os.sep}py4j{os.sep}" not in record.pathname


def first_line(error: BaseException, limit: int = 300) -> str:
    """The first meaningful line of an error from Spark, without its stack trace."""
    text = str(error).strip()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("at ", "Traceback", "File ", "JVM stacktrace")):
            return line[:limit]
    return type(error).__name__


def ship_packages(spark: SparkSession, *modules: str) -> None:
    """Send the named packages (and this kit) to the executors as one zip, so the same
    code runs there on a cluster; a no-op when they were sent before."""
    import importlib

    context = spark.sparkContext
    shipped = set(getattr(context, "_lifecycle_shipped", set()))
    wanted = [m for m in ("lifecycle", *modules) if m not in shipped]
    if not wanted:
        return
    # Spark refuses a second file of the same name, so each zip is named by its packages.
    target = Path(tempfile.mkdtemp(prefix="lifecycle-spark-")) / f"{'-'.join(wanted)}.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for name in wanted:
            package_dir = Path(importlib.import_module(name).__file__ or "").parent
            for source in sorted(package_dir.rglob("*.py")):
                archive.write(source, str(Path(name) / source.relative_to(package_dir)))
    context.addPyFile(str(target))
    context._lifecycle_shipped = shipped | set(wanted)  # type: ignore[attr-defined]


def parallel_map(
    master: str,
    app_name: str,
    function: Callable[[T], R],
    items: Sequence[T],
    packages: tuple[str, ...] = (),
    done: Callable[[int], None] | None = None,
) -> list[R]:
    """``[function(item) for item in items]``, computed by Spark tasks on ``master`` and
    returned in the order of ``items``. ``function`` and the items must pickle. ``done``
    hears, from a reporting thread, how many items the finished tasks have computed."""
    spark = session(master, app_name, packages)
    context = spark.sparkContext
    slices = max(1, min(len(items), context.defaultParallelism * 4))
    indexed = context.parallelize(list(enumerate(items)), slices)
    computed = context.accumulator(0)

    def compute(pair: tuple[int, T]) -> tuple[int, R]:
        result = function(pair[1])
        computed.add(1)
        return pair[0], result

    stop.point()
    finished = report_count(computed, done)
    try:
        results = indexed.map(compute).collect()
    except Exception as error:
        raise_if_stopped(error)
        raise
    finally:
        finished.set()
    if done is not None:
        done(len(items))
    return [result for _, result in sorted(results, key=lambda pair: pair[0])]


def report_count(
    counter: Accumulator[int], report: Callable[[int], None] | None, every: float = 1.0
) -> threading.Event:
    """A daemon thread that passes ``counter``'s value (as the finished tasks report
    it) to ``report`` every ``every`` seconds, until the returned event is set."""
    finished = threading.Event()
    if report is None:
        return finished

    def loop() -> None:
        while not finished.wait(every):
            report(int(counter.value))

    threading.Thread(target=loop, name="spark-progress", daemon=True).start()
    return finished

"""The Spark engine of the score step, and the Spark session every Spark step uses.

The session runs on any master URL (``local[*]`` on a laptop, ``spark://``, ``yarn`` or
``k8s://`` on a cluster); locally it binds to 127.0.0.1 with the UI off. Rows are read
and written by a Python data source over ``lifecycle.tables``, so a local path and an
``s3://`` URI work alike without Hadoop's S3 connector, and both engines see the same
types. Row checks and predictions call the functions the pandas engine calls:
row-aligned models with one prediction column go through ``mlflow.pyfunc.spark_udf``
with an explicit result type; models that answer several rows per input row (cities)
or read earlier rows (gold) run per partition or per chunk with ``mapInPandas`` /
``applyInPandas``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lifecycle import outputs, rows, tables
from lifecycle.errors import DataError

T = TypeVar("T")
R = TypeVar("R")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from lifecycle.outputs import Claim

logger = logging.getLogger(__name__)
# PySpark 4.3 warns on every use with pandas 3; the engine's results are tested.
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)

JAVA_MINIMUM = 17
JAVA_INSTALL = (
    "install it with `sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or "
    "`brew install openjdk@17` (macOS), or use engine=pandas / engine=local"
)
SOURCE_NAME = "lifecycle_tables"
# Rows per Arrow batch between the JVM and Python (Spark's default is 10,000).
ARROW_BATCH_ROWS = 100_000
_MODELS: dict[str, Any] = {}


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
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # py4j or Spark: the session could not start
        raise SparkUnavailableError(
            f"Spark could not start on {master}: {first_line(error)}"
        ) from error
    spark.sparkContext.setLogLevel("ERROR")
    # py4j logs each broken call with its stack trace, on its own and on the root logger;
    # the step reports the failure as one line of its own.
    logging.getLogger("py4j").setLevel(logging.CRITICAL)
    if not any(isinstance(f, _Py4JTraces) for f in logging.root.filters):
        logging.root.addFilter(_Py4JTraces())
    ship_packages(spark, *packages)
    register_source(spark)
    return spark


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
) -> list[R]:
    """``[function(item) for item in items]``, computed by Spark tasks on ``master`` and
    returned in the order of ``items``. ``function`` and the items must pickle."""
    spark = session(master, app_name, packages)
    context = spark.sparkContext
    slices = max(1, min(len(items), context.defaultParallelism * 4))
    indexed = context.parallelize(list(enumerate(items)), slices)
    results = indexed.map(lambda pair: (pair[0], function(pair[1]))).collect()
    return [result for _, result in sorted(results, key=lambda pair: pair[0])]


# --- the data source: files read and written through lifecycle.tables -----------------


def _encode_schema(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def _decode_schema(text: str) -> pa.Schema:
    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def register_source(spark: SparkSession) -> None:
    """Register the data source that reads an input's files and writes output parts."""
    from pyspark.sql.datasource import (
        DataSource,
        DataSourceArrowWriter,
        DataSourceReader,
        InputPartition,
        WriterCommitMessage,
    )

    @dataclass
    class Written(WriterCommitMessage):
        path: str

    class Reader(DataSourceReader):
        def __init__(self, options: dict[str, str]) -> None:
            self.options = options

        def partitions(self) -> list[InputPartition]:
            return [InputPartition(path) for path in json.loads(self.options["files"])]

        def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
            from lifecycle import tables as kit_tables

            files = kit_tables.InputFiles(
                kit_tables.locate(self.options["input"]),
                tuple(json.loads(self.options["files"])),
                self.options["format"],
            )
            schema = _decode_schema(self.options["arrow_schema"])
            table = kit_tables.conform(kit_tables.read_file(files, partition.value), schema)
            yield from table.to_batches()

    class Writer(DataSourceArrowWriter):
        def __init__(self, options: dict[str, str]) -> None:
            self.options = options

        def write(self, iterator: Iterator[pa.RecordBatch]) -> Written:
            import pyarrow as pa
            from pyspark import TaskContext

            from lifecycle import tables as kit_tables

            schema = _decode_schema(self.options["arrow_schema"])
            batches = list(iterator)
            if not batches or sum(b.num_rows for b in batches) == 0:
                return Written("")
            table = kit_tables.conform(pa.Table.from_batches(batches), schema)
            context = TaskContext.get()
            part = context.partitionId() if context else 0
            location = kit_tables.locate(self.options["path"])
            path = f"{location.path.rstrip('/')}/part-{part:05d}-{self.options['token']}.parquet"
            return Written(kit_tables.write_part(table, path, location))

        def commit(self, messages: list[WriterCommitMessage | None]) -> None:
            """Nothing to do: the score step writes the completion marker, last."""

        def abort(self, messages: list[WriterCommitMessage | None]) -> None:
            from lifecycle import tables as kit_tables

            location = kit_tables.locate(self.options["path"])
            for message in messages:
                path = getattr(message, "path", "")
                if path:
                    location.filesystem.delete_file(path)

    class Source(DataSource):
        @classmethod
        def name(cls) -> str:
            return SOURCE_NAME

        def reader(self, schema: Any) -> Reader:
            return Reader(dict(self.options))

        def writer(self, schema: Any, overwrite: bool) -> Writer:
            return Writer(dict(self.options))

    spark.dataSource.register(Source)


def spark_schema(schema: pa.Schema) -> Any:
    """An Arrow schema as Spark's."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def native_parquet(files: tables.InputFiles) -> bool:
    """Whether Spark's own Parquet reader can read the input as ``tables`` would: local
    Parquet files whose columns all agree, none needing a conversion of ours."""
    if files.location.is_s3 or files.format != "parquet":
        return False
    schemas = [tables.file_schema(files, path) for path in files.files]
    first = schemas[0].remove_metadata()
    if any(not schema.remove_metadata().equals(first) for schema in schemas[1:]):
        return False
    return all(tables._plain_type(field.type) == field.type or _text(field.type) for field in first)


def _text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def read(spark: SparkSession, files: tables.InputFiles, schema: pa.Schema) -> DataFrame:
    """The input as a DataFrame with its origin columns. Local Parquet goes through
    Spark's own reader (``source_file`` then holds the file's URI, which the score pass
    turns into the name ``tables`` gives it); CSV, S3 and mixed schemas through the
    Python data source, one partition per file."""
    import pyarrow as pa
    from pyspark.sql import functions as sf

    if native_parquet(files):
        data = pa.schema(
            [f for f in schema if f.name not in (tables.SOURCE_FILE, tables.SOURCE_ROW)]
        )
        frame = spark.read.schema(spark_schema(data)).parquet(*files.files)
        return frame.select(
            *data.names,
            sf.col("_metadata.file_path").alias(tables.SOURCE_FILE),
            sf.col("_metadata.row_index").cast("long").alias(tables.SOURCE_ROW),
        )
    return (
        spark.read.format(SOURCE_NAME)
        .schema(spark_schema(schema))
        .option("input", files.location.uri)
        .option("files", json.dumps(list(files.files)))
        .option("format", files.format)
        .option("arrow_schema", _encode_schema(schema))
        .load()
    )


def file_names(files: tables.InputFiles) -> dict[str, str]:
    """Each input file's path as Spark's reader reports it, to the name ``tables`` uses."""
    return {os.path.normpath(path): tables.relative_name(files, path) for path in files.files}


def _origin_name(value: str, names: dict[str, str]) -> str:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(value)
    path = unquote(parsed.path) if parsed.scheme == "file" else value
    return names.get(os.path.normpath(path), value)


def write(frame: DataFrame, claim: Claim, schema: pa.Schema) -> None:
    """Write ``frame``'s parts into a claimed folder, each named with the claim's token.
    Locally Spark's own Parquet writer fills a hidden staging folder, whose files are then
    moved in; on S3 the Python data source writes the parts. No marker is written."""
    selected = frame.select(*schema.names)
    if claim.location.is_s3:
        (
            selected.write.format(SOURCE_NAME)
            .mode("append")
            .option("path", claim.location.uri)
            .option("token", claim.token)
            .option("arrow_schema", _encode_schema(schema))
            .save()
        )
        return
    staging = claim.staging()
    selected.write.mode("append").parquet(staging.uri)
    written = sorted(Path(staging.path).glob("part-*.parquet"))
    for number, part in enumerate(written):
        os.replace(part, claim.part_path(f"{number:05d}"))
    shutil.rmtree(staging.path, ignore_errors=True)


# --- scoring ---------------------------------------------------------------------------


class SparkJobError(RuntimeError):
    """A Spark job failed for a reason no check of ours names; the message is Spark's
    first line, without its stack trace."""


def ship_model(spark: SparkSession, model_path: str) -> str:
    """Send the model's files to the executors as an archive the driver serves (so no
    shared filesystem is needed); returns the name ``SparkFiles.get`` unpacks it under.
    The name is the files' digest: a later job of the session with the same model ships
    nothing and finds it loaded in the Python workers."""
    import hashlib

    hasher = hashlib.sha256()
    sources = sorted(path for path in Path(model_path).rglob("*") if path.is_file())
    for source in sources:
        hasher.update(str(source.relative_to(model_path)).encode() + b"\0")
        hasher.update(source.read_bytes())
    name = f"model-{hasher.hexdigest()[:16]}.zip"
    context = spark.sparkContext
    shipped = set(getattr(context, "_lifecycle_models", set()))
    if name in shipped:
        return name
    archive = Path(tempfile.mkdtemp(prefix="lifecycle-model-")) / name
    with zipfile.ZipFile(archive, "w") as bundle:
        for source in sources:
            bundle.write(source, str(source.relative_to(model_path)))
    context.addArchive(str(archive))
    context._lifecycle_models = shipped | {name}  # type: ignore[attr-defined]
    return name


def _for_spark(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame PySpark can turn into Arrow: pandas 3's Arrow-backed text columns as
    Python objects (PySpark 4 sends them as chunked arrays and fails)."""
    import pandas as pd

    text = [name for name, kind in frame.dtypes.items() if isinstance(kind, pd.StringDtype)]
    return frame.astype(dict.fromkeys(text, object)) if text else frame


def _model(scorer: rows.Scorer, name: str) -> Any:
    """The model shipped with ``addArchive``, loaded once per Python worker."""
    from pyspark import SparkFiles

    if name not in _MODELS:
        _MODELS[name] = scorer.load(SparkFiles.get(name))
    return _MODELS[name]


@dataclass(frozen=True)
class _Pass:
    """What each task of the score pass needs: pickled once, sent with the function."""

    scorer: rows.Scorer
    model_name: str
    targets: rows.Targets
    raw_schema: pa.Schema
    names: dict[str, str]
    metadata: dict[str, Any]


def _check_and_split(job: _Pass, batch: pd.DataFrame, part: str, model: Any) -> pd.DataFrame:
    """One batch: check and type every row; the rejected rows written at once to the
    rejected output's part ``part``; the clean rows returned, typed."""
    good, rejected = rows.split_rows(batch, job.scorer, model)
    if len(rejected) and job.names:
        origins = rejected[tables.SOURCE_FILE]
        names = {value: _origin_name(value, job.names) for value in origins.unique()}
        rejected[tables.SOURCE_FILE] = origins.map(names)
    if len(rejected):
        table = rows.to_arrow(rejected, rows.rejected_schema(job.raw_schema))
        tables.write_part(
            table, job.targets.rejected.part_path(part), job.targets.rejected.location
        )
    return good


def _write_counts(job: _Pass, part: int, counts: dict[str, int]) -> None:
    """A task's row counts, in a file named by its partition (a rerun replaces it)."""
    stats = job.targets.output.stats()
    fs = stats.filesystem
    if not stats.is_s3:
        fs.create_dir(stats.path, recursive=True)
    with fs.open_output_stream(f"{stats.path}/part-{part:05d}.json") as handle:
        handle.write(json.dumps(counts).encode())


def _read_counts(claim: Claim) -> dict[str, int]:
    from pyarrow import fs as pafs

    stats = claim.stats()
    fs = stats.filesystem
    totals = {"in": 0, "rejected": 0, "scored": 0}
    if fs.get_file_info(stats.path).type != pafs.FileType.Directory:
        return totals
    for info in fs.get_file_info(pafs.FileSelector(stats.path)):
        with fs.open_input_stream(info.path) as handle:
            for key, value in json.loads(handle.read()).items():
                totals[key] += int(value)
    return totals


def _clean_batches(
    job: _Pass, batches: Iterator[pd.DataFrame]
) -> Iterator[tuple[pd.DataFrame, Any]]:
    """A task's batches checked and typed: yields each batch's clean rows with the model
    (loaded once per Python worker); the rejected rows are written aside as they come,
    and the task's counts once its batches are done."""
    from pyspark import TaskContext

    context = TaskContext.get()
    partition = context.partitionId() if context else 0
    model = _model(job.scorer, job.model_name)
    counts = {"in": 0, "rejected": 0, "scored": 0}
    for number, batch in enumerate(batches):
        good = _check_and_split(job, batch, f"{partition:05d}-{number:04d}", model)
        counts["in"] += len(batch)
        counts["rejected"] += len(batch) - len(good)
        counts["scored"] += len(good)
        yield good, model
    _write_counts(job, partition, counts)


def _score_pass(job: _Pass) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The one pass of row-by-row models: per Arrow batch, check + type + predict, the
    rejected rows written aside."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for good, model in _clean_batches(job, batches):
            if len(good):
                clean = good.reset_index(drop=True)
                predictions = rows.predict_rows(job.scorer, model, clean)
                yield _for_spark(rows.assemble(clean, predictions, job.scorer, job.metadata))

    return run


def _check_pass(job: _Pass) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """Series models' first pass: check and type each row (the rejected rows written
    aside); the clean rows go on to be ordered and cut into chunks."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for good, _ in _clean_batches(job, batches):
            yield _for_spark(good)

    return run


def score_spark(
    scorer: rows.Scorer,
    model_path: str,
    files: tables.InputFiles,
    targets: rows.Targets,
    spark_master: str,
    quarantine: bool,
    metadata: dict[str, Any],
) -> rows.Outcome:
    """The Spark engine: one pass over the input (read, check, type, predict, the
    rejected rows aside) and one write, with no cache and no count over the input; series
    models add the ordering their chunks need. The counts come from the tasks' own
    files, the output rows from the written parts' footers."""
    spark = session(
        spark_master, f"{scorer.project}-score", (type(scorer).__module__.split(".")[0],)
    )
    raw_schema = tables.input_schema(files)
    rows.check_columns(raw_schema.names, scorer)
    started = time.perf_counter()
    try:
        outcome = _score_job(spark, scorer, model_path, files, targets, quarantine, metadata)
    except KeyboardInterrupt:
        _cancel(spark)
        raise
    except (DataError, rows.RowsRejectedError):
        raise
    except Exception as error:
        stop = _stop_behind(error)
        if stop is not None:  # a signal that py4j turned into a broken connection
            _cancel(spark)
            raise stop from None
        raise _classified(error) from error
    outcome.seconds = time.perf_counter() - started
    return outcome


def _stop_behind(error: BaseException) -> KeyboardInterrupt | None:
    """The stop (Ctrl-C, or SIGTERM turned into one) an error was raised while handling."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _cancel(spark: SparkSession) -> None:
    """Cancel the session's jobs on the way out of a stop. The JVM may be gone already:
    py4j then logs a stack trace (on the root logger), which is not the user's to read."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with contextlib.suppress(Exception):
            spark.sparkContext.cancelAllJobs()
    finally:
        logging.disable(previous)


def _classified(error: Exception) -> Exception:
    """A Spark failure as one line: a check of ours that failed in a task (its message),
    or Spark's own first line."""
    text = str(error)
    ours = re.search(r"(?:lifecycle\.errors\.)?DataError: (.+)", text)
    if ours:
        return DataError(ours.group(1).strip())
    return SparkJobError(f"the Spark job failed: {first_line(error)}")


def _score_job(
    spark: SparkSession,
    scorer: rows.Scorer,
    model_path: str,
    files: tables.InputFiles,
    targets: rows.Targets,
    quarantine: bool,
    metadata: dict[str, Any],
) -> rows.Outcome:
    import pyarrow as pa

    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    raw_schema = tables.input_schema(files)
    model_name = ship_model(spark, model_path)
    lap("ship_model")
    job = _Pass(
        scorer=scorer,
        model_name=model_name,
        targets=targets,
        raw_schema=raw_schema,
        names=file_names(files) if native_parquet(files) else {},
        metadata=metadata,
    )
    raw = read(spark, files, raw_schema)
    out_schema = rows.output_schema(rows.typed_schema(raw_schema, scorer), scorer)
    if scorer.series_order is None:
        scored = raw.mapInPandas(_score_pass(job), spark_schema(out_schema))
        lap("plan")
        write(scored, targets.output, out_schema)
        lap("job")
        counts = _read_counts(targets.output)
    else:
        typed_schema = rows.typed_schema(raw_schema, scorer).append(
            pa.field(rows.ORDER, pa.int64())
        )
        good = raw.mapInPandas(_check_pass(job), spark_schema(typed_schema)).cache()
        try:
            keys = good.select(rows.ORDER, scorer.series_order).toPandas()
            counts = _read_counts(targets.output)
            _refuse_early(counts, files, quarantine)
            keys = keys.sort_values(rows.ORDER, kind="stable")
            problem = rows.series_problem(
                scorer, keys[rows.ORDER].to_numpy(), keys[scorer.series_order]
            )
            if problem:
                raise DataError(problem)
            scored = _score_series(scorer, good, job.model_name, out_schema, metadata, len(keys))
            write(scored, targets.output, out_schema)
        finally:
            good.unpersist()
    _remove_folder(targets.output.stats())
    _refuse_early(counts, files, quarantine, targets.rejected)
    written = outputs.parts(targets.output)
    if not written:
        tables.write_part(
            out_schema.empty_table(), targets.output.part_path("00000"), targets.output.location
        )
    outcome = rows.Outcome(
        rows_in=counts["in"],
        rows_rejected=counts["rejected"],
        rows_scored=counts["scored"],
        rows_out=sum(int(part["rows"]) for part in written),
        examples=_examples(targets.rejected) if counts["rejected"] else [],
    )
    lap("finish")
    logger.info(
        "Spark score stages: %s", ", ".join(f"{name} {sec:.2f} s" for name, sec in stages.items())
    )
    return outcome


def _remove_folder(location: tables.Location) -> None:
    """Delete a hidden working folder of this job."""
    if location.is_s3:
        location.filesystem.delete_dir_contents(location.path, missing_dir_ok=True)
    else:
        shutil.rmtree(location.path, ignore_errors=True)


def _refuse_early(
    counts: dict[str, int],
    files: tables.InputFiles,
    quarantine: bool,
    rejected: Claim | None = None,
) -> None:
    """An empty input, or bad rows under ``on_bad_rows=fail``, stop the job."""
    if counts["in"] == 0:
        raise DataError(f"input {files.location.uri!r} holds no rows")
    if counts["rejected"] and not quarantine:
        outcome = rows.Outcome(rows_in=counts["in"], rows_rejected=counts["rejected"])
        if rejected is not None:
            outcome.examples = _examples(rejected)
        raise rows.RowsRejectedError(outcome)


def _examples(rejected: Claim) -> list[str]:
    """The first rejected rows by file and row, from the parts the tasks wrote."""
    import pyarrow.dataset as ds

    paths = [
        f"{rejected.location.path.rstrip('/')}/{part['name']}" for part in outputs.parts(rejected)
    ]
    if not paths:
        return []
    table = ds.dataset(paths, filesystem=rejected.location.filesystem, format="parquet").to_table(
        columns=[tables.SOURCE_FILE, tables.SOURCE_ROW, rows.REASON]
    )
    first = table.to_pandas().sort_values([tables.SOURCE_FILE, tables.SOURCE_ROW])
    return rows.describe_problems(first)


def _score_series(
    scorer: rows.Scorer,
    good: DataFrame,
    model_name: str,
    out_schema: pa.Schema,
    metadata: dict[str, Any],
    row_count: int,
) -> DataFrame:
    """Series models: the rows in time order, cut into the pandas engine's chunks, each
    with the ``history_rows`` rows before it; the chunks run in parallel."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    chunk, history = scorer.chunk_rows, scorer.history_rows
    if history >= chunk:
        raise ValueError("a chunk must hold more rows than the history it reads")
    position = sf.row_number().over(Window.orderBy(rows.ORDER)) - 1
    ordered = good.withColumn("_pos", position)
    own = ordered.withColumn("_chunk", sf.floor(sf.col("_pos") / chunk))
    halo = ordered.filter((sf.col("_pos") % chunk) >= chunk - history).withColumn(
        "_chunk", sf.floor(sf.col("_pos") / chunk) + 1
    )
    # One partition per chunk, by number: Spark's adaptive execution would otherwise
    # merge the chunks of a small table into one task, though each is costly to score.
    chunks = math.ceil(row_count / chunk)
    windows = own.unionByName(halo).filter(sf.col("_chunk") < max(chunks, 1))
    windows = windows.repartition(max(chunks, 1), "_chunk")

    def predict(frame: pd.DataFrame) -> pd.DataFrame:
        model = _model(scorer, model_name)
        frame = frame.sort_values("_pos").reset_index(drop=True)
        first = int(frame["_chunk"].iloc[0]) * chunk
        skip = int((frame["_pos"] < first).sum())
        rows_ = frame.drop(columns=["_pos", "_chunk"])
        predictions = rows.predict_window(scorer, model, rows_, skip)
        return _for_spark(rows.assemble(rows_, predictions, scorer, metadata))

    return windows.groupBy("_chunk").applyInPandas(predict, spark_schema(out_schema))

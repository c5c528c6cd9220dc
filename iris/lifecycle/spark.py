# Generated from lifecycle/spark.py by python -m lifecycle.sync; edit the source.
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
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from lifecycle import scoring, tables
from lifecycle.errors import DataError

T = TypeVar("T")
R = TypeVar("R")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    import pandas as pd
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

logger = logging.getLogger(__name__)

JAVA_MINIMUM = 17
JAVA_INSTALL = (
    "install it with `sudo apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu) or "
    "`brew install openjdk@17` (macOS), or use engine=pandas / engine=local"
)
SOURCE_NAME = "lifecycle_tables"
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


def session(master: str, app_name: str) -> SparkSession:
    """The process's Spark session (an active one is reused, whatever its master)."""
    require_java()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
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
        .config("spark.sql.shuffle.partitions", "8")
    )
    if master.startswith("local"):
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    register_source(spark)
    return spark


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
    spark = session(master, app_name)
    ship_packages(spark, *packages)
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
            part = f"{context.partitionId():05d}" if context else "0"
            location = kit_tables.locate(self.options["path"])
            return Written(kit_tables.write_part(table, location, part))

        def commit(self, messages: list[WriterCommitMessage | None]) -> None:
            from lifecycle import tables as kit_tables

            kit_tables.mark_complete(kit_tables.locate(self.options["path"]))

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


def read(spark: SparkSession, files: tables.InputFiles, schema: pa.Schema) -> DataFrame:
    """The input as a DataFrame, one partition per file."""
    return (
        spark.read.format(SOURCE_NAME)
        .schema(spark_schema(schema))
        .option("input", files.location.uri)
        .option("files", json.dumps(list(files.files)))
        .option("format", files.format)
        .option("arrow_schema", _encode_schema(schema))
        .load()
    )


def write(frame: DataFrame, location: tables.Location, schema: pa.Schema) -> None:
    """Write ``frame`` as Parquet parts under ``location``, then ``_SUCCESS``."""
    (
        frame.select(*schema.names)
        .write.format(SOURCE_NAME)
        .mode("append")
        .option("path", location.uri)
        .option("arrow_schema", _encode_schema(schema))
        .save()
    )


# --- scoring ---------------------------------------------------------------------------


def ship_model(spark: SparkSession, model_path: str) -> str:
    """Send the model's files to the executors as an archive the driver serves (so no
    shared filesystem is needed); returns the name ``SparkFiles.get`` unpacks it under."""
    name = f"model-{uuid.uuid4().hex[:12]}.zip"
    archive = Path(tempfile.mkdtemp(prefix="lifecycle-model-")) / name
    with zipfile.ZipFile(archive, "w") as bundle:
        for source in sorted(Path(model_path).rglob("*")):
            if source.is_file():
                bundle.write(source, str(source.relative_to(model_path)))
    spark.sparkContext.addArchive(str(archive))
    return name


def _for_spark(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame PySpark can turn into Arrow: pandas 3's Arrow-backed text columns as
    Python objects (PySpark 4 sends them as chunked arrays and fails)."""
    import pandas as pd

    text = [name for name, kind in frame.dtypes.items() if isinstance(kind, pd.StringDtype)]
    return frame.astype(dict.fromkeys(text, object)) if text else frame


def _model(scorer: scoring.Scorer, name: str) -> Any:
    """The model shipped with ``addFile``, loaded once per Python worker."""
    from pyspark import SparkFiles

    if name not in _MODELS:
        _MODELS[name] = scorer.load(SparkFiles.get(name))
    return _MODELS[name]


def score_spark(
    scorer: scoring.Scorer,
    model_path: str,
    files: tables.InputFiles,
    outputs: tuple[tables.Location, tables.Location],
    params: scoring.ScoreParams,
    metadata: dict[str, Any],
) -> scoring.Outcome:
    """The Spark engine: check rows per partition, count, then predict and write."""
    import pyarrow as pa
    from pyspark.sql import functions as sf

    output, rejected_output = outputs
    spark = session(params.spark_master, f"{scorer.project}-score")
    ship_packages(spark, type(scorer).__module__.split(".")[0])
    raw_schema = tables.input_schema(files)
    scoring.check_columns(raw_schema.names, scorer)
    model_name = ship_model(spark, model_path)
    started = time.perf_counter()
    raw = read(spark, files, raw_schema)

    def check(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = _model(scorer, model_name)
        for batch in batches:
            batch[scoring.PROBLEM] = scoring.check_rows(batch, scorer, model).to_numpy()
            yield _for_spark(batch)

    checked_schema = raw_schema.append(pa.field(scoring.PROBLEM, pa.string()))
    checked = raw.mapInPandas(check, spark_schema(checked_schema)).cache()
    try:
        outcome = scoring.Outcome(rows_in=checked.count())
        if outcome.rows_in == 0:
            raise DataError(f"input {files.location.uri!r} holds no rows")
        rejected = checked.filter(sf.col(scoring.PROBLEM).isNotNull()).withColumnRenamed(
            scoring.PROBLEM, scoring.REASON
        )
        outcome.rows_rejected = rejected.count()
        examples = rejected.orderBy(tables.SOURCE_FILE, tables.SOURCE_ROW).limit(scoring.EXAMPLES)
        outcome.examples = scoring.describe_problems(examples.toPandas())
        if outcome.rows_rejected and params.on_bad_rows == "fail":
            raise scoring.RowsRejectedError(outcome)
        good_raw = checked.filter(sf.col(scoring.PROBLEM).isNull()).drop(scoring.PROBLEM)
        typed_schema = scoring.typed_schema(raw_schema, scorer)
        if scorer.series_order is not None:
            typed_schema = typed_schema.append(pa.field(scoring.ORDER, pa.int64()))

        def typed(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for batch in batches:
                yield _for_spark(scoring.typed_rows(batch, scorer))

        good = good_raw.mapInPandas(typed, spark_schema(typed_schema))
        out_schema = scoring.output_schema(scoring.typed_schema(raw_schema, scorer), scorer)
        if scorer.series_order is not None:
            scored = _score_series(scorer, good, model_name, out_schema, metadata)
        elif scorer.spark_result_type is not None:
            scored = _score_with_udf(spark, scorer, good, model_path, metadata)
        else:
            scored = _score_batches(scorer, good, model_name, out_schema, metadata)
        scored = scored.cache()
        outcome.rows_out = scored.count()
        outcome.rows_scored = outcome.rows_in - outcome.rows_rejected
        if params.mode == "overwrite":
            tables.remove(output)
            tables.remove(rejected_output)
        write(scored, output, out_schema)
        if outcome.rows_rejected:
            write(rejected, rejected_output, scoring.rejected_schema(raw_schema))
        scored.unpersist()
        outcome.seconds = time.perf_counter() - started
        return outcome
    finally:
        checked.unpersist()


def _with_metadata(frame: DataFrame, metadata: dict[str, Any]) -> DataFrame:
    import pandas as pd
    from pyspark.sql import functions as sf

    scored_at = pd.Timestamp(metadata["scored_at"]).to_pydatetime()
    return (
        frame.withColumn("model_name", sf.lit(metadata["model_name"]).cast("string"))
        .withColumn("model_version", sf.lit(metadata["model_version"]).cast("long"))
        .withColumn("model_run_id", sf.lit(metadata["model_run_id"]).cast("string"))
        .withColumn("scored_at", sf.lit(scored_at).cast("timestamp"))
    )


def _score_with_udf(
    spark: SparkSession,
    scorer: scoring.Scorer,
    good: DataFrame,
    model_path: str,
    metadata: dict[str, Any],
) -> DataFrame:
    """Row-aligned models: MLflow's spark_udf with the declared result type."""
    import mlflow.pyfunc
    from pyspark.sql import functions as sf

    (prediction,) = scorer.predictions
    predict = mlflow.pyfunc.spark_udf(
        spark, model_path, result_type=scorer.spark_result_type, env_manager="local"
    )
    inputs = sf.struct(*(sf.col(spec.name) for spec in scorer.inputs))
    return _with_metadata(good.withColumn(prediction.name, predict(inputs)), metadata)


def _score_batches(
    scorer: scoring.Scorer,
    good: DataFrame,
    model_name: str,
    out_schema: pa.Schema,
    metadata: dict[str, Any],
) -> DataFrame:
    """Models that answer rows independently, several output rows per input row allowed."""

    def predict(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        model = _model(scorer, model_name)
        for batch in batches:
            rows = batch.reset_index(drop=True)
            predictions = scoring.predict_rows(scorer, model, rows)
            yield _for_spark(scoring.assemble(rows, predictions, scorer, metadata))

    return good.mapInPandas(predict, spark_schema(out_schema))


def _score_series(
    scorer: scoring.Scorer,
    good: DataFrame,
    model_name: str,
    out_schema: pa.Schema,
    metadata: dict[str, Any],
) -> DataFrame:
    """Series models: the rows in time order, cut into the pandas engine's chunks, each
    with the ``history_rows`` rows before it; the chunks run in parallel."""
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    order = scorer.series_order
    assert order is not None, "only series models are scored in chunks"
    chunk, history = scorer.chunk_rows, scorer.history_rows
    if history >= chunk:
        raise ValueError("a chunk must hold more rows than the history it reads")
    duplicates = (
        good.groupBy(scoring.ORDER)
        .agg(sf.first(order).alias(order), sf.count("*").alias("n"))
        .filter(sf.col("n") > 1)
        .limit(scoring.EXAMPLES)
        .toPandas()
    )
    if not duplicates.empty:
        repeats = sorted(duplicates[order].astype(str))
        raise DataError(scoring.duplicate_order_problem(repeats, order))
    position = sf.row_number().over(Window.orderBy(scoring.ORDER)) - 1
    ordered = good.withColumn("_pos", position)
    own = ordered.withColumn("_chunk", sf.floor(sf.col("_pos") / chunk))
    halo = ordered.filter((sf.col("_pos") % chunk) >= chunk - history).withColumn(
        "_chunk", sf.floor(sf.col("_pos") / chunk) + 1
    )
    # One partition per chunk, by number: Spark's adaptive execution would otherwise
    # merge the chunks of a small table into one task, though each is costly to score.
    chunks = math.ceil(ordered.count() / chunk)
    windows = own.unionByName(halo).repartition(max(chunks, 1), "_chunk")

    def predict(frame: pd.DataFrame) -> pd.DataFrame:
        model = _model(scorer, model_name)
        frame = frame.sort_values("_pos").reset_index(drop=True)
        first = int(frame["_chunk"].iloc[0]) * chunk
        skip = int((frame["_pos"] < first).sum())
        rows = frame.drop(columns=["_pos", "_chunk"])
        predictions = scoring.predict_window(scorer, model, rows, skip)
        return _for_spark(scoring.assemble(rows, predictions, scorer, metadata))

    return windows.groupBy("_chunk").applyInPandas(predict, spark_schema(out_schema))

# Generated from lifecycle/score/spark_engine.py by python -m lifecycle.sync; edit the source.
"""The Spark engine of the score step: the same row checks and predictions as the local
engine (``lifecycle.score.rows``, ``lifecycle.score.assembly``), run per partition.
Row-aligned models score in one pass of ``mapInPandas``; series models (gold) first
check every row, then score their chunks in parallel with ``applyInPandas``, each chunk
with the rows of history it reads.

The series path has a ceiling: every clean row's order key and label come to the
driver, and the rows are numbered in one window partition. A daily series spans at most
about 2.6 million rows (years 1 to 9999); far beyond some ten million rows it would need
a distributed numbering, which is not built (docs/scaling-out.md).
"""

from __future__ import annotations

import json
import logging
import math
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import DataError
from lifecycle.io import manifests, tables
from lifecycle.io.claims import STATS_PREFIX, remove_folder
from lifecycle.score.assembly import (
    assemble,
    output_schema,
    predict_rows,
    predict_window,
    rejected_schema,
    to_arrow,
    typed_schema,
)
from lifecycle.score.job import Outcome, RowsRejectedError, ScoreJob
from lifecycle.score.rows import ORDER, REASON, describe_problems, series_problem, split_rows
from lifecycle.spark.session import first_line, raise_if_stopped, report_count, session
from lifecycle.spark.staging import (
    file_names,
    native_parquet,
    origin_name,
    read,
    spark_schema,
    write,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd
    import pyarrow as pa
    from pyspark.accumulators import Accumulator
    from pyspark.sql import DataFrame, SparkSession

    from lifecycle.io.claims import Claim
    from lifecycle.score.job import Targets
    from lifecycle.score.rows import Scorer

logger = logging.getLogger(__name__)
_MODELS: dict[str, Any] = {}


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


def _model(scorer: Scorer, name: str) -> Any:
    """The model shipped with ``addArchive``, loaded once per Python worker."""
    from pyspark import SparkFiles

    if name not in _MODELS:
        _MODELS[name] = scorer.load(SparkFiles.get(name))
    return _MODELS[name]


@dataclass(frozen=True)
class _Pass:
    """What each task of the score pass needs: pickled once, sent with the function."""

    scorer: Scorer
    model_name: str
    targets: Targets
    raw_schema: pa.Schema
    names: dict[str, str]
    metadata: dict[str, Any]
    checked: Accumulator[int]  # rows checked, as the finished tasks report them


def _check_and_split(job: _Pass, batch: pd.DataFrame, part: str, model: Any) -> pd.DataFrame:
    """One batch: check and type every row; the rejected rows written at once to the
    rejected output's part ``part``; the clean rows returned, typed."""
    good, rejected = split_rows(batch, job.scorer, model)
    if len(rejected) and job.names:
        origins = rejected[tables.SOURCE_FILE]
        names = {value: origin_name(value, job.names) for value in origins.unique()}
        rejected[tables.SOURCE_FILE] = origins.map(names)
    if len(rejected):
        table = to_arrow(rejected, rejected_schema(job.raw_schema))
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
        job.checked.add(len(batch))
        yield good, model
    _write_counts(job, partition, counts)


def _score_pass(job: _Pass) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """The one pass of row-by-row models: per Arrow batch, check + type + predict, the
    rejected rows written aside."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for good, model in _clean_batches(job, batches):
            if len(good):
                clean = good.reset_index(drop=True)
                predictions = predict_rows(job.scorer, model, clean)
                yield _for_spark(assemble(clean, predictions, job.scorer, job.metadata))

    return run


def _check_pass(job: _Pass) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """Series models' first pass: check and type each row (the rejected rows written
    aside); the clean rows go on to be ordered and cut into chunks."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for good, _ in _clean_batches(job, batches):
            yield _for_spark(good)

    return run


def score_spark(job: ScoreJob, spark_master: str) -> Outcome:
    """The Spark engine, on ``spark_master``: one pass over the input (read, check,
    type, predict, the rejected rows aside) and one write, with no cache and no count
    over the input; series models add the ordering their chunks need. The counts come
    from the tasks' own files, the output rows from the written parts' footers. A stop
    cancels the running job (the session's companion thread) and is raised here."""
    scorer = job.scorer
    spark = session(
        spark_master, f"{scorer.project}-score", (type(scorer).__module__.split(".")[0],)
    )
    started = time.perf_counter()
    checked = spark.sparkContext.accumulator(0)
    reporter = report_count(checked, job.progress.update)
    try:
        outcome = _score_job(spark, job, checked)
    except (DataError, RowsRejectedError):
        raise
    except Exception as error:
        raise_if_stopped(error)
        raise _classified(error) from error
    finally:
        reporter.set()
    job.progress.update(outcome.rows_in)
    job.progress.finish()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _classified(error: Exception) -> Exception:
    """A Spark failure as one line: a check of ours that failed in a task (its message),
    or Spark's own first line."""
    text = str(error)
    ours = re.search(r"(?:lifecycle\.errors\.)?DataError: (.+)", text)
    if ours:
        return DataError(ours.group(1).strip())
    return SparkJobError(f"the Spark job failed: {first_line(error)}")


def _score_job(spark: SparkSession, score: ScoreJob, checked: Accumulator[int]) -> Outcome:
    import pyarrow as pa

    scorer, files, targets, metadata = score.scorer, score.files, score.targets, score.metadata
    raw_schema, quarantine = score.schema, score.quarantine

    stages: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages[name] = now - clock
        clock = now

    model_name = ship_model(spark, score.model_path)
    lap("ship_model")
    native = native_parquet(files, score.schemas)
    job = _Pass(
        scorer=scorer,
        model_name=model_name,
        targets=targets,
        raw_schema=raw_schema,
        names=file_names(files) if native else {},
        metadata=metadata,
        checked=checked,
    )
    raw = read(spark, files, raw_schema, native)
    out_schema = output_schema(typed_schema(raw_schema, scorer), scorer)
    if scorer.series_order is None:
        scored = raw.mapInPandas(_score_pass(job), spark_schema(out_schema))
        lap("plan")
        write(scored, targets.output, out_schema)
        lap("job")
        counts = _read_counts(targets.output)
    else:
        checked_schema = typed_schema(raw_schema, scorer).append(pa.field(ORDER, pa.int64()))
        good = raw.mapInPandas(_check_pass(job), spark_schema(checked_schema)).cache()
        try:
            # The ceiling of the series path (docs/scaling-out.md): every clean row's key
            # comes to the driver, and the rows are numbered in one window partition.
            keys = good.select(ORDER, scorer.series_order).toPandas()
            counts = _read_counts(targets.output)
            _refuse_early(counts, files, quarantine)
            keys = keys.sort_values(ORDER, kind="stable")
            problem = series_problem(scorer, keys[ORDER].to_numpy(), keys[scorer.series_order])
            if problem:
                raise DataError(problem)
            scored = _score_series(scorer, good, job.model_name, out_schema, metadata, len(keys))
            write(scored, targets.output, out_schema)
        finally:
            good.unpersist()
    remove_folder(targets.output.location, f"{STATS_PREFIX}{targets.output.token}")
    _refuse_early(counts, files, quarantine, targets.rejected)
    written = manifests.parts(targets.output)
    if not written:
        tables.write_part(
            out_schema.empty_table(), targets.output.part_path("00000"), targets.output.location
        )
    outcome = Outcome(
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
        outcome = Outcome(rows_in=counts["in"], rows_rejected=counts["rejected"])
        if rejected is not None:
            outcome.examples = _examples(rejected)
        raise RowsRejectedError(outcome)


def _examples(rejected: Claim) -> list[str]:
    """The first rejected rows by file and row, from the parts the tasks wrote."""
    import pyarrow.dataset as ds

    paths = [
        f"{rejected.location.path.rstrip('/')}/{part['name']}" for part in manifests.parts(rejected)
    ]
    if not paths:
        return []
    table = ds.dataset(paths, filesystem=rejected.location.filesystem, format="parquet").to_table(
        columns=[tables.SOURCE_FILE, tables.SOURCE_ROW, REASON]
    )
    first = table.to_pandas().sort_values([tables.SOURCE_FILE, tables.SOURCE_ROW])
    return describe_problems(first)


def _score_series(
    scorer: Scorer,
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
    position = sf.row_number().over(Window.orderBy(ORDER)) - 1
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
        predictions = predict_window(scorer, model, rows_, skip)
        return _for_spark(assemble(rows_, predictions, scorer, metadata))

    return windows.groupBy("_chunk").applyInPandas(predict, spark_schema(out_schema))

# Generated from lifecycle/score/local_engine.py by python -m lifecycle.sync; edit the source.
"""The ``local`` engine of the score step: the input read in chunks in this process,
each chunk checked and typed (``lifecycle.score.rows``), scored and written at once as a
row group of one Parquet part per claimed folder; the markers are the step's, last.

Series models (gold) need every clean row in time order before any is predicted: their
chunks are checked and kept, then sorted and scored in the model's own chunks (each with
the rows of history it reads), exactly as the Spark engine cuts them. Between chunks the
step reports its progress and acts on a stop (``lifecycle.stop``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lifecycle import stop
from lifecycle.errors import DataError
from lifecycle.io import tables
from lifecycle.score.assembly import (
    assemble,
    chunk_bounds,
    output_schema,
    predict_rows,
    predict_window,
    rejected_schema,
    to_arrow,
    typed_schema,
)
from lifecycle.score.job import Outcome, RowsRejectedError, ScoreJob
from lifecycle.score.rows import EXAMPLES, ORDER, describe_problems, series_problem, split_rows

if TYPE_CHECKING:
    import pandas as pd

    from lifecycle.score.rows import Scorer

# Rows read, checked and scored at a time: a few seconds of work at most, so progress
# and a stop come at least that often.
CHUNK_ROWS = 250_000


def score_local(job: ScoreJob) -> Outcome:
    """Score the job's input into its targets; bad rows stop the job unless it
    quarantines them, after every row was checked, so the counts are whole."""
    scorer, files, schema, targets = job.scorer, job.files, job.schema, job.targets
    quarantine, metadata, progress = job.quarantine, job.metadata, job.progress
    model = scorer.load(job.model_path)
    started = time.perf_counter()
    out_schema = output_schema(typed_schema(schema, scorer), scorer)
    scored = tables.PartWriter(
        targets.output.part_path("00000"), targets.output.location, out_schema, always=True
    )
    rejected = tables.PartWriter(
        targets.rejected.part_path("00000"),
        targets.rejected.location,
        rejected_schema(schema),
        always=False,
    )
    outcome = Outcome()
    held: list[pd.DataFrame] = []  # a series model's clean rows, until all are read
    try:
        for table in tables.iter_tables(files, schema, CHUNK_ROWS):
            raw = table.to_pandas()
            good, bad = split_rows(raw, scorer, model)
            outcome.rows_in += len(raw)
            outcome.rows_rejected += len(bad)
            if len(outcome.examples) < EXAMPLES:
                outcome.examples += describe_problems(bad, EXAMPLES - len(outcome.examples))
            if outcome.rows_rejected and not quarantine:
                progress.advance(len(raw))  # only counted now: nothing will be written
                continue
            if len(bad):
                rejected.write(to_arrow(bad, rejected.schema))
            if scorer.series_order is not None:
                held.append(good)
            elif len(good):
                clean = good.reset_index(drop=True)
                predictions = predict_rows(scorer, model, clean)
                scored.write(to_arrow(assemble(clean, predictions, scorer, metadata), out_schema))
                outcome.rows_scored += len(clean)
            progress.advance(len(raw))
        if outcome.rows_in == 0:
            raise DataError(f"input {files.location.uri!r} holds no rows")
        if outcome.rows_rejected and not quarantine:
            raise RowsRejectedError(outcome)
        if scorer.series_order is not None:
            outcome.rows_scored = _score_series(scorer, model, held, scored, metadata)
        scored.close()
        rejected.close()
    except BaseException:
        scored.abandon()
        rejected.abandon()
        raise
    outcome.rows_out = scored.rows
    outcome.seconds = time.perf_counter() - started
    progress.finish()
    return outcome


def _score_series(
    scorer: Scorer,
    model: Any,
    held: list[pd.DataFrame],
    scored: tables.PartWriter,
    metadata: dict[str, Any],
) -> int:
    """A series model's clean rows in time order, checked as one series, then scored in
    its chunks (each with its history), a safe point between chunks. Returns the rows."""
    import pandas as pd

    good = pd.concat(held, ignore_index=True) if held else pd.DataFrame()
    if good.empty:
        return 0
    good = good.sort_values(ORDER, kind="stable").reset_index(drop=True)
    problem = series_problem(scorer, good[ORDER].to_numpy(), good[scorer.series_order])
    if problem:
        raise DataError(problem)
    for read_from, first, end in chunk_bounds(len(good), scorer.chunk_rows, scorer.history_rows):
        stop.point()
        window = good.iloc[read_from:end].reset_index(drop=True)
        predictions = predict_window(scorer, model, window, first - read_from)
        scored.write(to_arrow(assemble(window, predictions, scorer, metadata), scored.schema))
    return len(good)

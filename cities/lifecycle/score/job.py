# Generated from lifecycle/score/job.py by python -m lifecycle.sync; edit the source.
"""A score job as its engine takes it (``ScoreJob``), where it writes (``Targets``), what
it did (``Outcome``), and the refusal of bad rows under ``on_bad_rows=fail``
(``RowsRejectedError``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa

    from lifecycle.io.claims import Claim
    from lifecycle.io.tables import InputFiles
    from lifecycle.score.rows import Scorer
    from lifecycle.step.progress import Progress


@dataclass
class Outcome:
    """What a score job did: rows read, rejected, scored, and output rows written."""

    rows_in: int = 0
    rows_rejected: int = 0
    rows_scored: int = 0
    rows_out: int = 0
    # The engine's wall time to read, check, predict and write, after its start-up (the
    # model loaded in this process; the Spark session up, the model and code shipped).
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)


class RowsRejectedError(DataError):
    """Bad rows under ``on_bad_rows=fail``: the job stops before writing anything."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        shown = "; ".join(outcome.examples)
        super().__init__(
            f"{outcome.rows_rejected} of {outcome.rows_in} input row(s) cannot be scored "
            f"({shown}); nothing was written. Fix them, or pass -P on_bad_rows=quarantine "
            f"to score the rest and write these to the rejected output"
        )


@dataclass(frozen=True)
class Targets:
    """Where a job writes: its claimed output and rejected-output folders."""

    output: Claim
    rejected: Claim


@dataclass(frozen=True)
class ScoreJob:
    """Everything an engine needs, settled by the step before any row is read: the
    project's scorer, the model's local copy, the input's files with each one's columns
    and their union, the claimed targets, what bad rows do, the metadata every output
    row carries, and where progress goes."""

    scorer: Scorer
    model_path: str
    files: InputFiles
    schemas: list[pa.Schema]  # each file's columns, in the order of files.files
    schema: pa.Schema  # their union, with the origin columns
    targets: Targets
    quarantine: bool
    metadata: dict[str, Any]
    progress: Progress

# Generated from lifecycle/score/command.py by python -m lifecycle.sync; edit the source.
"""The ``score`` click command every project adds to its steps: the declared ``score``
parameters (``lifecycle.score.params.ScoreParams``, with the project's champion as the
default model), the job, and its one result line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lifecycle.errors import DataError
from lifecycle.score.params import ScoreParams, score_entry_point
from lifecycle.step.checks import checkpoint
from lifecycle.step.command import StepError, declared_command
from lifecycle.step.console import result

if TYPE_CHECKING:
    from collections.abc import Callable

    from lifecycle.score.rows import Scorer


def add_score_command(
    group: click.Group, project: str, make_scorer: Callable[[], Scorer]
) -> click.Command:
    """Add the ``score`` command of ``project`` to its group of steps."""

    @declared_command(group, score_entry_point(project))
    def command(params: ScoreParams) -> None:
        """Score a table with one fixed model version and write Parquet with the metadata."""
        checkpoint()
        from lifecycle.models import ModelUriError
        from lifecycle.score.spark_engine import SparkJobError
        from lifecycle.score.step import score, score_line
        from lifecycle.spark.session import SparkUnavailableError

        try:
            outcome = score(params, make_scorer())
        except (DataError, ModelUriError, SparkJobError, SparkUnavailableError) as error:
            raise StepError(str(error)) from error
        result(score_line(project, outcome))

    return command

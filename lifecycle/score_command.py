"""The ``score`` click command every project adds to its steps: the declared ``score``
parameters (``lifecycle.scoring.ScoreParams``, with the project's champion as the
default model), the job, and its one result line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lifecycle.checks import checkpoint
from lifecycle.command import StepError, declared_command
from lifecycle.errors import DataError
from lifecycle.scoring import ScoreParams, score, score_entry_point, score_line

if TYPE_CHECKING:
    from collections.abc import Callable

    from lifecycle.rows import Scorer


def add_score_command(
    group: click.Group, project: str, make_scorer: Callable[[], Scorer]
) -> click.Command:
    """Add the ``score`` command of ``project`` to its group of steps."""

    @declared_command(group, score_entry_point(project))
    def command(params: ScoreParams) -> None:
        """Score a table with one fixed model version and write Parquet with the metadata."""
        checkpoint()
        # mlflow run passes no SIGTERM on: under it, the job stops once mlflow run is gone.
        from lifecycle.failures import STEP_RUN_ID
        from lifecycle.stopping import stop_when_launcher_goes

        if STEP_RUN_ID:
            stop_when_launcher_goes("this step")
        from lifecycle.models import ModelUriError
        from lifecycle.spark import SparkJobError, SparkUnavailableError

        try:
            result = score(params, make_scorer())
        except (DataError, ModelUriError, SparkJobError, SparkUnavailableError) as error:
            raise StepError(str(error)) from error
        click.echo(score_line(project, result))

    return command

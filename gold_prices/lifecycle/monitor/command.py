# Generated from lifecycle/monitor/command.py by python -m lifecycle.sync; edit the source.
"""The ``monitor`` click command every project adds to its steps: the declared
``monitor`` parameters (the project's champion by default), the check, its one line and
its exit code (3 when the status reaches ``fail_on``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.errors import DataError
from lifecycle.models import ModelUriError
from lifecycle.monitor.params import MonitorParams, monitor_entry_point
from lifecycle.monitor.step import ProjectMonitor, monitor, monitor_line
from lifecycle.step.checks import checkpoint
from lifecycle.step.command import StepError, declared_command
from lifecycle.step.console import result as result_line

if TYPE_CHECKING:
    from collections.abc import Callable

    import click


def add_monitor_command(
    group: click.Group, project: str, make_monitor: Callable[[], ProjectMonitor]
) -> click.Command:
    """Add the ``monitor`` command of ``project`` to its group of steps."""
    import click

    @declared_command(group, monitor_entry_point(project))
    def command(params: MonitorParams) -> None:
        """Check a batch for drift and live performance; print the status."""
        project_monitor = make_monitor()
        if params.truth.strip() and project_monitor.feedback is None:
            raise click.BadParameter(
                f"truth={params.truth!r}: {project} has no live feedback to judge its "
                f"performance by; leave truth empty",
                param_hint="--truth",
            )
        checkpoint()
        try:
            checked = monitor(params, project_monitor)
        except (DataError, ModelUriError) as error:
            raise StepError(str(error)) from error
        result_line(monitor_line(project, checked))

    return command

"""Parameter checks a caller can run without running the step.

Each project's click command validates its options (types, ranges, choices) first and
then calls ``checkpoint()``. Normally that does nothing; inside ``check_parameters`` it
stops the command right there, so the orchestrator can validate every override with the
owning project's own rules before it creates any run or starts any chain.
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

from lifecycle import stop

if TYPE_CHECKING:
    import click

_CHECKING = contextvars.ContextVar("lifecycle_checking_parameters", default=False)


class ParametersChecked(Exception):  # noqa: N818 - a signal, not an error
    """Raised by ``checkpoint`` while checking: every option was valid."""


class InvalidParametersError(ValueError):
    """An option the step's own validation refused; the message names it and why."""


def checkpoint() -> None:
    """Call after a command has validated its options and before it does any work.

    Outside a check, the work begins here: a brand-new sqlite tracking store is created
    first, one step at a time (``lifecycle.step.store``), then the experiment the step
    logs to is chosen and marked as model training (``lifecycle.step.runs``). A stop
    asked for so far is acted on here, the step's first safe point."""
    if _CHECKING.get():
        raise ParametersChecked
    import click

    from lifecycle.step.console import adopt_library_loggers
    from lifecycle.step.runs import ExperimentError, choose_experiment
    from lifecycle.step.store import StoreBusyError, prepare_tracking_store

    stop.point()
    try:
        prepare_tracking_store()
        adopt_library_loggers()
        choose_experiment()
    except (StoreBusyError, ExperimentError) as error:
        raise click.ClickException(str(error)) from error
    stop.point()


def option_arguments(parameters: dict[str, str]) -> list[str]:
    """MLproject parameters as the click options of the same name in kebab case."""
    arguments: list[str] = []
    for name, value in parameters.items():
        arguments += [f"--{name.replace('_', '-')}", str(value)]
    return arguments


def check_parameters(group: click.Group, command: str, parameters: dict[str, str]) -> None:
    """Run ``command`` of ``group`` up to its checkpoint; raise ``InvalidParametersError`` with
    the command's own message if it refuses an option."""
    import click

    token = _CHECKING.set(True)
    try:
        group.main([command, *option_arguments(parameters)], standalone_mode=False)
    except ParametersChecked:
        return
    except click.ClickException as error:
        raise InvalidParametersError(error.format_message()) from error
    finally:
        _CHECKING.reset(token)
    raise InvalidParametersError(f"{command}: the command has no parameter checkpoint")

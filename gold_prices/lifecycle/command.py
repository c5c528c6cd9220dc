# Generated from lifecycle/command.py by python -m lifecycle.sync; edit the source.
"""What every step's click command shares: the step failure, parameter errors as click
errors, logging set-up, and the console entry that turns any failure into one line, an
exit code and the run's ``failure_reason``.

Exit codes: 0 done; 1 the step failed (``StepError``, an MLflow error); 2 an option was
refused before any work (click's usage error).
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lifecycle.engines import EngineParams
from lifecycle.errors import ParameterError
from lifecycle.failures import record_failure, tracking_failure_message

if TYPE_CHECKING:
    from collections.abc import Callable

    from lifecycle.params import EntryPoint

T = TypeVar("T")


class StepError(click.ClickException):
    """A failure that ends the step with exit code 1 and a one-line reason."""


def validated(build: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a validating constructor, turning its complaint into a click parameter error
    that names the option(s) to change."""
    try:
        return build(*args, **kwargs)
    except ParameterError as error:
        raise click.BadParameter(
            f"{error.name}={error.value!r}: {error.allowed}",
            param_hint=" / ".join(f"--{option.replace('_', '-')}" for option in error.options),
        ) from error


def configure_logging(verbose: bool) -> None:
    """Log INFO (DEBUG with ``--verbose``) with time, level and logger name."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def step_group(description: str) -> click.Group:
    """The click group of a project's steps, with ``-v/--verbose`` for debug logging."""

    @click.group(help=description)
    @click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
    def group(verbose: bool) -> None:
        configure_logging(verbose)

    return group


def declared_options(entry: EntryPoint) -> list[click.Option]:
    """The click options of ``entry``'s parameters, from their declaration."""
    types = {"int": click.INT, "float": click.FLOAT, "string": click.STRING}
    return [
        click.Option(
            [parameter.option, parameter.name],
            type=types[parameter.type],
            required=parameter.required,
            default=None if parameter.required else parameter.default,
            show_default=not parameter.required and parameter.default != "",
            help=f"{parameter.rule.help[:1].upper()}{parameter.rule.help[1:]}; "
            f"{parameter.allowed()}.",
        )
        for _, parameter in entry.parameters()
    ]


def declared(
    entry: EntryPoint,
    function: Callable[..., None],
    name: str | None = None,
    extra: tuple[click.Parameter, ...] = (),
) -> click.Command:
    """A click command for ``entry``: its declared options (plus ``extra`` ones, passed
    to ``function`` by name), each value validated before ``function`` receives one
    instance per declaring class. A refused value is a usage error (exit 2) naming the
    option; ``engine=spark`` without Java 17 fails at once (exit 1)."""
    extra_names = {parameter.name for parameter in extra}

    def callback(**values: Any) -> None:
        extras = {key: values.pop(key) for key in list(values) if key in extra_names}
        built = validated(entry.build, values)
        for instance in built:
            if isinstance(instance, EngineParams) and instance.on_spark:
                from lifecycle.spark import SparkUnavailableError, require_java

                try:
                    require_java()
                except SparkUnavailableError as error:
                    raise StepError(str(error)) from error
        function(*built, **extras)

    return click.Command(
        name or entry.command,
        callback=callback,
        help=entry.help,
        params=[*declared_options(entry), *extra],
    )


def declared_command(
    group: click.Group, entry: EntryPoint
) -> Callable[[Callable[..., None]], click.Command]:
    """Add ``entry``'s command to ``group`` (``declared``). The decorated function
    calls ``checkpoint()`` itself, after any rule that joins several classes."""

    def decorate(function: Callable[..., None]) -> click.Command:
        command = declared(entry, function)
        group.add_command(command)
        return command

    return decorate


def run(group: click.Group) -> None:
    """Console entry: run ``group``, and tag the step's MLflow run when it fails. SIGTERM
    stops a step as Ctrl-C does (``lifecycle.stopping``): one line, exit code 130, the
    run FAILED with the reason."""
    from lifecycle.stopping import forget_interrupt_in_exec, stop_on_signals

    stop_on_signals()
    try:
        group.main(standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        record_failure(error.format_message())
        sys.exit(error.exit_code)
    except (click.Abort, KeyboardInterrupt) as stop:
        cause = stop.__cause__ if isinstance(stop, click.Abort) else stop
        message = f"the step was stopped: {str(cause or '') or 'interrupted'}"
        click.echo(f"Error: {message}", err=True)
        record_failure(message, terminate=True)
        forget_interrupt_in_exec()
        sys.exit(130)
    except Exception as error:
        # MLflow is imported lazily: an MLflow error can only come after it was imported.
        mlflow_exceptions = sys.modules.get("mlflow.exceptions")
        if mlflow_exceptions is not None and isinstance(error, mlflow_exceptions.MlflowException):
            message = tracking_failure_message(error)
        else:
            # Not one we can classify: the step stops with its type and first line, and
            # the trace goes to the log (-v shows it), never to the user's terminal.
            logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
            first = (str(error).strip().splitlines() or [""])[0][:300]
            message = f"unexpected {type(error).__name__}: {first} (run with -v for details)"
        click.echo(f"Error: {message}", err=True)
        record_failure(message)
        sys.exit(1)

# Generated from lifecycle/step/command.py by python -m lifecycle.sync; edit the source.
"""What every step's click command shares: the options built from the declarations
(integers and numbers read strictly), parameter errors as click errors, the group of a
project's steps, and the console entry that turns any failure into one line, an exit
code and the run's ``failure_reason``.

Exit codes: 0 done; 1 the step failed (``StepError``, an MLflow error); 2 an option was
refused before any work (click's usage error); 130 the step was stopped (a signal, or
the ``mlflow run`` that started it gone).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lifecycle import contract, stop
from lifecycle.engines import EngineParams
from lifecycle.errors import ParameterError
from lifecycle.step import console, signals
from lifecycle.step.failures import (
    forget_runs,
    record_failure,
    step_run_id,
    tracking_failure_message,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from lifecycle.params import EntryPoint

T = TypeVar("T")
STOPPED = 130
# What a step process is doing, for the name and log of its run: set as the group and
# then the command are entered.
_CURRENT: dict[str, str] = {}


class StepError(click.ClickException):
    """A failure that ends the step with exit code 1 and a one-line reason."""


class StrictInteger(click.ParamType[int]):
    """An integer written plainly: digits with an optional sign. Python's ``int`` also
    reads ``3_0`` as 30, which a parameter must not mean."""

    name = "integer"
    pattern = re.compile(r"[+-]?[0-9]+")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if not self.pattern.fullmatch(text):
            plainly = "; write it plainly, without _" if "_" in text else ""
            self.fail(f"{value!r} is not a valid integer{plainly}.", param, ctx)
        return int(text)


class StrictNumber(click.ParamType[float]):
    """A number written plainly (``0.5``, ``1e-3``, ``-2``): no ``_`` separators."""

    name = "number"
    pattern = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?(inf|nan)", re.I)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            return float(value)
        text = str(value).strip()
        if not self.pattern.fullmatch(text):
            plainly = "; write it plainly, without _" if "_" in text else ""
            self.fail(f"{value!r} is not a valid float{plainly}.", param, ctx)
        return float(text)


TYPES: dict[str, click.ParamType[Any]] = {
    "int": StrictInteger(),
    "float": StrictNumber(),
    "string": click.STRING,
}


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


def configure_logging(verbose: bool, own: tuple[str, ...] = ()) -> None:
    """The terminal and the log file (``lifecycle.step.console``)."""
    console.configure(verbose, own)


def step_group(description: str, project: str, package: str) -> click.Group:
    """The click group of ``project``'s steps (its code in ``package``), with
    ``-v/--verbose`` to show everything."""

    @click.group(help=description)
    @click.option("-v", "--verbose", is_flag=True, help="Show every log line (DEBUG).")
    @click.pass_context
    def group(context: click.Context, verbose: bool) -> None:
        _CURRENT["project"] = project
        if context.invoked_subcommand:
            _CURRENT["step"] = context.invoked_subcommand
        configure_logging(verbose, (package,))

    return group


def declared_options(entry: EntryPoint) -> list[click.Option]:
    """The click options of ``entry``'s parameters, from their declaration."""
    return [
        click.Option(
            [parameter.option, parameter.name],
            type=TYPES[parameter.type],
            required=parameter.required,
            default=None if parameter.required else parameter.default,
            show_default=not parameter.required and parameter.default != "",
            help=f"{parameter.constraint.help[:1].upper()}{parameter.constraint.help[1:]}; "
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
                from lifecycle.spark.session import SparkUnavailableError, require_java

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


def _run_name(error: BaseException | None = None) -> str | None:
    """The name of this process's run: the one given to ``run``, else ``<project> ·
    <step>`` once the step is known, from the command click entered or the one a refused
    option belongs to."""
    if "run_name" in _CURRENT:
        return _CURRENT["run_name"]
    project = _CURRENT.get("project")
    step = _CURRENT.get("step")
    if step is None:
        context = getattr(error, "ctx", None)
        command = getattr(context, "command", None)
        if command is not None and not isinstance(command, click.Group):
            step = command.name
    if not project or not step:
        return None
    return contract.run_name(project, step)


def run(
    command: click.Command,
    run_name: str | None = None,
    what: str = "the step",
    args: list[str] | None = None,
    prog_name: str | None = None,
    started: str = "this step",
) -> None:
    """Console entry: run ``command`` (a project's group of steps, or the orchestrator's
    command, whose run is ``run_name``; ``what`` names it in messages, and ``started``
    in the reason when what started it is gone), record a failure
    on the step's MLflow run, and store the process's log with its run. SIGTERM and
    SIGINT, and under ``mlflow run`` the end of ``mlflow run`` itself, stop a step at its
    next safe point (``lifecycle.stop``): one line, exit code 130, the run FAILED with
    the reason. A run refused while its options are parsed is still named and given its
    reason."""
    _CURRENT.clear()
    forget_runs()
    if run_name:
        _CURRENT["run_name"] = run_name
    signals.stop_with_launcher(started)
    code, tracking_failed = 0, False
    try:
        # Without standalone mode click returns an exit code it was asked for (``Exit``).
        returned = command.main(args, prog_name=prog_name, standalone_mode=False)
        code = returned if isinstance(returned, int) else 0
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        error.show()
        record_failure(error.format_message(), name=_run_name(error))
        code = error.exit_code
    except (click.Abort, KeyboardInterrupt) as stopped:
        cause = stopped.__cause__ if isinstance(stopped, click.Abort) else stopped
        message = f"{what} was stopped: {stop.reason() or str(cause or '') or 'interrupted'}"
        click.echo(f"Error: {message}", err=True)
        record_failure(message, terminate=True, name=_run_name())
        code = STOPPED
    except Exception as error:
        # MLflow is imported lazily: an MLflow error can only come after it was imported.
        mlflow_exceptions = sys.modules.get("mlflow.exceptions")
        tracking_failed = mlflow_exceptions is not None and isinstance(
            error, mlflow_exceptions.MlflowException
        )
        if tracking_failed:
            message = tracking_failure_message(error)
        else:
            # Not one we can classify: the step stops with its type and first line, and
            # the trace goes to the log (-v shows it), never to the user's terminal.
            logging.getLogger(__name__).debug("unexpected failure", exc_info=True)
            first = (str(error).strip().splitlines() or [""])[0][:300]
            message = f"unexpected {type(error).__name__}: {first} (run with -v for details)"
        click.echo(f"Error: {message}", err=True)
        record_failure(message, name=_run_name())
        code = 1
    name = _CURRENT.get("step") or _CURRENT.get("run_name")
    if "mlflow" in sys.modules and name and not tracking_failed:
        run_id = step_run_id()
        if run_id:
            console.keep_log(run_id, name)
    sys.exit(code)

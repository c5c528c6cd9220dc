# Generated from lifecycle/params.py by python -m lifecycle.sync; edit the source.
"""Parameters declared once: each entry point's parameters are the fields of typed,
frozen dataclasses, and everything else is derived from them.

A field declared with ``param(default, help=..., low=..., high=..., choices=...)`` gives
its name, type (``int``, ``float`` or ``str``), default, range or choices and help in one
place. Constructing the class checks every field against that declaration, then runs
the class's own ``check()`` for rules that join several fields; a refused value raises
``ParameterError`` naming it and what is allowed. From the same declaration:

- ``lifecycle.step.command.declared_command`` builds a step's click options;
- ``lifecycle.sync`` writes each ``MLproject``'s ``parameters:`` and ``command:`` and the
  parameter tables of each project README;
- the orchestrator checks ``-P params=`` overrides through the step's own command.

Pure: no I/O, no click, no MLflow.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import re
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.errors import ParameterError

if TYPE_CHECKING:
    from lifecycle.io.datasets import PinnedFile

_METADATA_KEY = "lifecycle.param"
TYPES: dict[type, str] = {int: "int", float: "float", str: "string"}
# scikit-learn's limit for an integer seed, and a bound for counts nothing here needs
# more of: an int without an upper bound would reach scikit-learn as an overflow.
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Constraint:
    """What one parameter accepts, and what it is for."""

    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""  # a regular expression the whole text must match
    nonempty: bool = False
    name: str = ""  # the parameter's name, when it is not the field's
    allowed: str = ""  # what is allowed, in words, where a range cannot say it


def param(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple[str, ...] = (),
    pattern: str = "",
    nonempty: bool = False,
    name: str = "",
    allowed: str = "",
) -> Any:
    """A declared parameter field; without ``default`` it is required."""
    constraint = Constraint(
        help=help,
        low=low,
        high=high,
        low_open=low_open,
        high_open=high_open,
        choices=choices,
        pattern=pattern,
        nonempty=nonempty,
        name=name,
        allowed=allowed,
    )
    return dataclasses.field(default=default, metadata={_METADATA_KEY: constraint})


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass(frozen=True)
class Parameter:
    """One declared parameter, resolved: its name, field, type, default and allows."""

    name: str
    attribute: str
    type: str  # int | float | string
    default: Any
    required: bool
    constraint: Constraint

    @property
    def option(self) -> str:
        """The click option: the name in kebab case (``max_depth`` is ``--max-depth``)."""
        return "--" + self.name.replace("_", "-")

    def allowed(self) -> str:
        """What the parameter accepts, in words (``an integer from 1 to 20``)."""
        allows = self.constraint
        if allows.choices:
            return "one of " + ", ".join(allows.choices)
        if self.type in ("int", "float"):
            kind = "an integer" if self.type == "int" else "a number"
            if allows.low is not None and allows.high is not None:
                if self.type == "int" or not (allows.low_open or allows.high_open):
                    words = f"{kind} from {_number(allows.low)} to {_number(allows.high)}"
                    if self.type == "float":
                        words = f"{kind} in [{_number(allows.low)}, {_number(allows.high)}]"
                else:
                    left = "(" if allows.low_open else "["
                    right = ")" if allows.high_open else "]"
                    words = f"{kind} in {left}{_number(allows.low)}, {_number(allows.high)}{right}"
            elif allows.low is not None:
                words = f"{kind} {'>' if allows.low_open else '>='} {_number(allows.low)}"
            else:
                words = kind
            return f"{words}; {allows.allowed}" if allows.allowed else words
        return allows.allowed or ("any non-empty text" if allows.nonempty else "any text")

    def check(self, value: object) -> None:
        """Refuse ``value`` unless it has this parameter's type and lies in its range."""
        allows = self.constraint
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ParameterError(self.name, value, "must be an integer")
            self._check_range(int(value), value)
        elif self.type == "float":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ParameterError(self.name, value, "must be a number")
            if not math.isfinite(float(value)):
                raise ParameterError(self.name, value, f"must be {self.allowed()}")
            self._check_range(float(value), value)
        else:
            if not isinstance(value, str):
                raise ParameterError(self.name, value, "must be text")
            if allows.choices and value not in allows.choices:
                raise ParameterError(self.name, value, f"must be {self.allowed()}")
            if allows.nonempty and not value.strip():
                raise ParameterError(self.name, value, f"must be {self.allowed()}")
            if allows.pattern and not re.fullmatch(allows.pattern, value):
                raise ParameterError(self.name, value, f"must be {self.allowed()}")

    def _check_range(self, number: float, value: object) -> None:
        allows = self.constraint
        too_low = allows.low is not None and (
            number <= allows.low if allows.low_open else number < allows.low
        )
        too_high = allows.high is not None and (
            number >= allows.high if allows.high_open else number > allows.high
        )
        if too_low or too_high:
            raise ParameterError(self.name, value, f"must be {self.allowed()}")


_RESOLVED: dict[type, tuple[Parameter, ...]] = {}


def parameters(cls: type) -> tuple[Parameter, ...]:
    """The declared parameters of a ``Declared`` class: its own fields first, then those
    it inherits, nearest class first."""
    if cls not in _RESOLVED:
        _RESOLVED[cls] = _resolve(cls)
    return _RESOLVED[cls]


def _resolve(cls: type) -> tuple[Parameter, ...]:
    hints = typing.get_type_hints(cls)

    def declaring_class(field: dataclasses.Field[Any]) -> int:
        owners = [vars(c).get("__annotations__", {}) for c in cls.__mro__]
        return next(i for i, own in enumerate(owners) if field.name in own)

    declared = []
    for field in sorted(dataclasses.fields(cls), key=declaring_class):
        constraint = field.metadata.get(_METADATA_KEY)
        if constraint is None:
            continue
        kind = TYPES.get(hints[field.name])
        if kind is None:
            raise TypeError(f"{cls.__name__}.{field.name}: a parameter is an int, float or str")
        required = field.default is dataclasses.MISSING
        declared.append(
            Parameter(
                name=constraint.name or field.name,
                attribute=field.name,
                type=kind,
                default=None if required else field.default,
                required=required,
                constraint=constraint,
            )
        )
    return tuple(declared)


class Declared:
    """Base of a frozen dataclass of declared parameters: constructing one checks each
    field against its declaration, then ``check()``."""

    def __post_init__(self) -> None:
        for parameter in parameters(type(self)):
            parameter.check(getattr(self, parameter.attribute))
        self.check()

    def check(self) -> None:
        """Rules that join several fields; none by default."""

    def as_dict(self) -> dict[str, Any]:
        """The declared fields by attribute name (what a run logs as its parameters)."""
        return {p.attribute: getattr(self, p.attribute) for p in parameters(type(self))}


@dataclass(frozen=True)
class EntryPoint:
    """An entry point: its command, what it does, the classes declaring its parameters
    (in option order) and the project-specific defaults that replace theirs."""

    command: str
    help: str
    declared: tuple[type[Declared], ...]
    defaults: tuple[tuple[str, Any], ...] = ()
    aliases: tuple[str, ...] = ()  # other entry point names for it (``main``)

    def parameters(self) -> tuple[tuple[type[Declared], Parameter], ...]:
        """Every parameter with the class declaring it, project defaults applied."""
        overrides = dict(self.defaults)
        resolved = []
        for cls in self.declared:
            for parameter in parameters(cls):
                if parameter.name in overrides:
                    parameter = dataclasses.replace(
                        parameter, default=overrides[parameter.name], required=False
                    )
                resolved.append((cls, parameter))
        names = [parameter.name for _, parameter in resolved]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise TypeError(f"entry point {self.command} declares {', '.join(repeated)} twice")
        unknown = sorted(set(overrides) - set(names))
        if unknown:
            raise TypeError(f"entry point {self.command} has no parameter {', '.join(unknown)}")
        return tuple(resolved)

    def build(self, values: dict[str, Any]) -> list[Declared]:
        """One instance per declaring class from ``values`` (by parameter name); a refused
        value raises ``ParameterError``."""
        fields: dict[type[Declared], dict[str, Any]] = {cls: {} for cls in self.declared}
        for cls, parameter in self.parameters():
            if parameter.name in values:
                fields[cls][parameter.attribute] = values[parameter.name]
        return [cls(**fields[cls]) for cls in self.declared]


@dataclass(frozen=True)
class ProjectDeclaration:
    """A project's entry points, as ``<package>/params.py`` declares them in ``PROJECT``."""

    name: str
    package: str
    summary: str  # what the project is, for the MLproject's opening comment
    entry_points: tuple[EntryPoint, ...]
    datasets: tuple[PinnedFile, ...] = ()  # the external files it reads, pinned

    def entry_point(self, command: str) -> EntryPoint:
        """The entry point run by ``command`` (or named ``command``, such as ``main``)."""
        for entry in self.entry_points:
            if command == entry.command or command in entry.aliases:
                return entry
        raise KeyError(command)


# The model a step takes: every project's evaluate and register steps declare it.
MODEL_URIS = (
    "runs:/<run_id>/model, models:/<name>@<alias>, models:/<name>/<version> or models:/m-<id>"
)
# The fixed model version score and monitor take, and the tables they read.
VERSION_URIS = "models:/<name>@<alias>, models:/<name>/<version> or runs:/<run_id>/model"
LOCATION = "a Parquet or CSV file or directory: a path or s3://bucket/prefix"


@dataclass(frozen=True)
class ModelParams(Declared):
    """The model a step takes: the hand-off from the step before it."""

    model_uri: str = param(help="the model to take", allowed=MODEL_URIS)


def evaluate_entry_point(help: str) -> EntryPoint:
    """The ``evaluate`` entry point every project has: it takes the model to evaluate."""
    return EntryPoint(command="evaluate", help=help, declared=(ModelParams,))

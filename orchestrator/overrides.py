"""What the steps are run with: their MLproject parameters' declared types, values
normalised by type (so ``3``, ``"3"`` and ``3.0`` are one int, and ``3_0`` none), and the
``-P params=`` overrides, parsed and checked against what each project declares. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import yaml

from orchestrator.selection import STEPS, ParameterError

PARAMETER_TYPES: tuple[str, ...] = ("int", "float", "string", "path", "uri")


@dataclass(frozen=True)
class ParamSpec:
    """One MLproject parameter: its type and default (``None`` when it has none)."""

    type: str
    default: object = None
    has_default: bool = False


def entry_point_parameters(mlproject_text: str) -> dict[str, dict[str, ParamSpec]]:
    """Each entry point's declared parameters, from the text of an ``MLproject`` file."""
    document = yaml.safe_load(mlproject_text) or {}
    declared: dict[str, dict[str, ParamSpec]] = {}
    for entry_point, spec in (document.get("entry_points") or {}).items():
        parameters: dict[str, ParamSpec] = {}
        for name, parameter in ((spec or {}).get("parameters") or {}).items():
            if not isinstance(parameter, dict):  # the short form ``name: type``
                parameter = {"type": parameter}
            parameters[name] = ParamSpec(
                type=str(parameter.get("type", "string")),
                default=parameter.get("default"),
                has_default="default" in parameter,
            )
        declared[str(entry_point)] = parameters
    return declared


def normalise_value(name: str, spec: ParamSpec, value: object) -> str:
    """``value`` as the step will receive it, by type: ``3``, ``"3"`` and ``3.0`` are one int;
    ``1``, ``"1"`` and ``1.0`` are one float; anything else is compared as text."""
    if isinstance(value, str) and "_" in value and spec.type in ("int", "float"):
        kind = "an integer" if spec.type == "int" else "a number"
        raise ParameterError(name, value, f"must be {kind} written plainly, without _")
    if spec.type == "int":
        number: Any = value
        if isinstance(value, str):
            text = value.strip()
            try:
                number = int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    raise ParameterError(name, value, "must be an integer") from None
        if isinstance(number, float):
            if not number.is_integer():
                raise ParameterError(name, value, "must be an integer")
            number = int(number)
        if isinstance(number, bool) or not isinstance(number, int):
            raise ParameterError(name, value, "must be an integer")
        return str(number)
    if spec.type == "float":
        try:
            number = float(value.strip() if isinstance(value, str) else value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ParameterError(name, value, "must be a number") from None
        if isinstance(value, bool) or not math.isfinite(number):
            raise ParameterError(name, value, "must be a finite number")
        return repr(number)
    return "" if value is None else str(value)


def normalise_parameters(
    declared: dict[str, ParamSpec], given: dict[str, object], entry_point: str
) -> dict[str, str]:
    """Every declared parameter of one entry point, defaults filled in, normalised by type."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(
            "params",
            ", ".join(unknown),
            f"entry point {entry_point} has no such parameter; it takes "
            f"{', '.join(sorted(declared)) or 'none'}",
        )
    normalised = {}
    for name, spec in declared.items():
        if name in given:
            normalised[name] = normalise_value(name, spec, given[name])
        elif spec.has_default:
            normalised[name] = normalise_value(name, spec, spec.default)
        else:
            raise ParameterError(name, None, f"entry point {entry_point} requires it")
    return normalised


def split_pairs(text: str) -> list[str]:
    """Comma-separated items, where ``\\,`` is a comma inside a value (and ``\\\\`` a
    backslash): ``iris.data_path=a\\,b.csv`` is one item, ``data_path=a,b.csv``."""
    items, current, characters = [], [], iter(text)
    for character in characters:
        if character == "\\":
            following = next(characters, "")
            current.append(following if following in (",", "\\") else character + following)
        elif character == ",":
            items.append("".join(current).strip())
            current = []
        else:
            current.append(character)
    items.append("".join(current).strip())
    return items


def parse_overrides(
    text: str,
    selected: list[str],
    declared: dict[str, dict[str, dict[str, ParamSpec]]],
    steps: tuple[str, ...] = STEPS,
) -> dict[str, dict[str, str]]:
    """``project.name=value`` pairs, comma-separated (``\\,`` for a comma inside a value),
    checked against the projects' steps.

    ``declared`` maps project -> entry point -> parameters. A pair applies to every step
    of the chain that declares the name; ``model_uri`` is the orchestrator's hand-off and
    cannot be set; a parameter given twice is refused (never "the last one wins"). Values
    are normalised by type here, so a bad one stops the run early.
    """
    overrides: dict[str, dict[str, str]] = {}
    for item in split_pairs(text):
        if not item:
            continue
        target, equals, value = item.partition("=")
        project, dot, name = target.strip().partition(".")
        if not equals or not dot or not project or not name:
            raise ParameterError(
                "params", item, "write project.parameter=value, e.g. iris.max_depth=3"
            )
        if project not in selected:
            raise ParameterError(
                "params", item, f"project {project} is not selected ({', '.join(selected)})"
            )
        if name in overrides.get(project, {}):
            raise ParameterError(
                "params", item, f"{project}.{name} is given twice; give each parameter once"
            )
        specs = [
            declared[project][step][name]
            for step in steps
            if name in declared[project].get(step, {})
        ]
        if not specs or name == "model_uri":
            names = sorted(
                {
                    parameter
                    for step in steps
                    for parameter in declared[project].get(step, {})
                    if parameter != "model_uri"
                }
            )
            elsewhere = sorted(
                entry
                for entry, parameters in declared[project].items()
                if name in parameters and entry not in steps and name != "model_uri"
            )
            if elsewhere:
                raise ParameterError(
                    "params",
                    item,
                    f"{project}.{name} is a parameter of {project}'s "
                    f"{', '.join(elsewhere)} entry point, which this run does not start "
                    f"(it runs {', '.join(steps)}); they take {', '.join(names)}",
                )
            raise ParameterError(
                "params",
                item,
                f"{project} has no parameter {name}; it takes {', '.join(names)}",
            )
        try:
            normalised = normalise_value(name, specs[0], value.strip())
        except ParameterError as error:
            raise ParameterError(
                "params", item, f"{project}.{name} is {specs[0].type}: it {error.allowed}"
            ) from error
        overrides.setdefault(project, {})[name] = normalised
    return overrides


def step_parameters(
    declared: dict[str, ParamSpec],
    overrides: dict[str, str],
    handed_over: dict[str, str],
    entry_point: str,
) -> dict[str, str]:
    """What one step is run with: the project's overrides it declares, plus the hand-off."""
    given: dict[str, object] = {
        name: value for name, value in overrides.items() if name in declared
    }
    given.update(handed_over)
    return normalise_parameters(declared, given, entry_point)

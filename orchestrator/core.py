"""Pure pieces of the orchestrator: which projects to run, the step parameters and their
normalisation by MLproject type, the step cache key, what each chain produced, and the
summary table built from those results.

No MLflow, no files and no processes here; ``orchestrator.chain`` does the running and
``orchestrator.fingerprint`` reads what the cache key is made of.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

STEPS: tuple[str, ...] = ("train", "evaluate", "register")
ENV_MANAGERS: tuple[str, ...] = ("local", "uv", "virtualenv", "conda")
MODEL_ARTIFACT = "model"  # every project logs its model under this artifact path


class ParameterError(ValueError):
    """An orchestrator parameter outside what is allowed; names it and the allowed values."""

    def __init__(self, name: str, value: object, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"{name}={value!r} is not allowed: {allowed}")


def discover_projects(root: Path) -> list[str]:
    """Project folders directly under ``root``: those holding an ``MLproject`` file."""
    return sorted(
        child.name
        for child in root.iterdir()
        if child.is_dir() and not child.name.startswith(".") and (child / "MLproject").is_file()
    )


def select_projects(requested: str, available: list[str]) -> list[str]:
    """Parse ``requested`` ("all" or a comma-separated list) against ``available``.

    Order follows the request, duplicates are dropped, unknown names are an error.
    """
    names = [name.strip() for name in requested.split(",") if name.strip()]
    if not names:
        raise ParameterError(
            "projects", requested, f"name one or more of: all, {', '.join(available)}"
        )
    if names == ["all"]:
        return list(available)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ParameterError(
            "projects",
            requested,
            f"unknown project(s) {', '.join(unknown)}; available: all, {', '.join(available)}",
        )
    return list(dict.fromkeys(names))


def validate_env_manager(env_manager: str) -> str:
    if env_manager not in ENV_MANAGERS:
        raise ParameterError(
            "env_manager", env_manager, f"must be one of {', '.join(ENV_MANAGERS)}"
        )
    return env_manager


def validate_max_parallel(max_parallel: int, cpu_count: int) -> int:
    """How many step processes may run at once: ``max_parallel``, or the core count for 0."""
    if isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 0:
        raise ParameterError(
            "max_parallel", max_parallel, "must be an integer >= 1, or 0 for the core count"
        )
    return max_parallel or max(1, cpu_count)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def parse_flag(name: str, text: str) -> bool:
    """A yes/no parameter given as a string (MLproject has no boolean type)."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ParameterError(name, text, f"must be one of {', '.join(_TRUE + _FALSE)}")


def parse_force(text: str, selected: list[str]) -> frozenset[str]:
    """Which selected projects re-run every step regardless of the cache.

    ``""`` or ``none``: none; ``all``: every selected project; else a comma-separated list.
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or names == ["none"]:
        return frozenset()
    if names == ["all"]:
        return frozenset(selected)
    unknown = [name for name in names if name not in selected]
    if unknown:
        raise ParameterError(
            "force",
            text,
            f"{', '.join(unknown)} not among the selected projects; use none, all, or some "
            f"of: {', '.join(selected)}",
        )
    return frozenset(names)


# ---------------------------------------------------------------------------------------
# Step parameters, normalised by their MLproject type

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
    text: str, selected: list[str], declared: dict[str, dict[str, dict[str, ParamSpec]]]
) -> dict[str, dict[str, str]]:
    """``project.name=value`` pairs, comma-separated (``\\,`` for a comma inside a value),
    checked against the projects' steps.

    ``declared`` maps project -> entry point -> parameters. A pair applies to every step
    of the chain that declares the name; ``model_uri`` is the orchestrator's hand-off and
    cannot be set. Values are normalised by type here, so a bad one stops the run early.
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
        specs = [
            declared[project][step][name]
            for step in STEPS
            if name in declared[project].get(step, {})
        ]
        if not specs or name == "model_uri":
            names = sorted(
                {
                    parameter
                    for step in STEPS
                    for parameter in declared[project].get(step, {})
                    if parameter != "model_uri"
                }
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


# ---------------------------------------------------------------------------------------
# The step cache key

CACHE_KEY_TAG = "orchestrator.cache_key"
CACHE_INGREDIENTS_TAG = "orchestrator.cache_ingredients"
CACHE_FORMAT = 1


@dataclass(frozen=True)
class StepIngredients:
    """Everything a step's result depends on; equal ingredients give an equal key."""

    project: str
    entry_point: str
    parameters: dict[str, str]
    code_sha256: str
    env_sha256: str
    data_sha256: dict[str, str]
    upstream_run_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "format": CACHE_FORMAT,
            "project": self.project,
            "entry_point": self.entry_point,
            "parameters": dict(sorted(self.parameters.items())),
            "code_sha256": self.code_sha256,
            "env_sha256": self.env_sha256,
            "data_sha256": dict(sorted(self.data_sha256.items())),
            "upstream_run_ids": list(self.upstream_run_ids),
        }

    def key(self) -> str:
        """sha256 of the canonical JSON of the ingredients."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def cache_filter(key: str) -> str:
    """The ``search_runs`` filter that finds a finished run made with ``key``."""
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise ValueError(f"not a cache key: {key!r}")
    return f"tags.`{CACHE_KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'"


def model_uri_for(train_run_id: str) -> str:
    """The hand-off from train to evaluate and register."""
    return f"runs:/{train_run_id}/{MODEL_ARTIFACT}"


_RUN_ID_IN_MESSAGE = re.compile(r"Run \(ID '([0-9a-f]+)'\) failed")


def failed_run_id(message: str) -> str | None:
    """The run id inside MLflow's "Run (ID '...') failed" message, if present."""
    match = _RUN_ID_IN_MESSAGE.search(message)
    return match.group(1) if match else None


@dataclass
class ChainResult:
    """What one project's train -> evaluate -> register chain produced."""

    project: str
    run_ids: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    gate_metric: str | None = None
    gate_value: float | None = None
    gate_decision: str | None = None
    gate_summary: str | None = None
    registered_version: str | None = None
    champion_version: str | None = None
    # Why the champion column is empty, or how it was read: "missing" (no alias), or
    # "unknown: ..." when the registry could not be read.
    champion_note: str | None = None
    failed_step: str | None = None
    error: str | None = None
    # step -> "hit" (a finished run was reused), "miss" (run, none matched), "forced"
    # (run although one matched, or without looking), or "off" (cache disabled)
    cache: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed_step is None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


SUMMARY_COLUMNS: tuple[str, ...] = (
    "project",
    "status",
    "train run",
    "evaluate run",
    "register run",
    "key metrics",
    "gate",
    "version",
    "champion",
    "cache",
)

CACHE_OUTCOMES: tuple[str, ...] = ("hit", "miss", "forced", "off")


def cache_counts(results: list[ChainResult]) -> dict[str, int]:
    """How many steps, over all chains, had each cache outcome."""
    counts = dict.fromkeys(CACHE_OUTCOMES, 0)
    for result in results:
        for outcome in result.cache.values():
            counts[outcome] += 1
    return counts


def _summary_row(result: ChainResult) -> list[str]:
    status = "ok" if result.ok else f"FAILED at {result.failed_step}"
    metrics = ", ".join(f"{key}={value:.4f}" for key, value in sorted(result.metrics.items()))
    if result.gate_decision is None:
        gate = "-"
    else:
        value = (
            "" if result.gate_value is None else f" {result.gate_metric}={result.gate_value:.4f}"
        )
        gate = f"{result.gate_decision}{value}"
    return [
        result.project,
        status,
        result.run_ids.get("train", "-"),
        result.run_ids.get("evaluate", "-"),
        result.run_ids.get("register", "-"),
        metrics or "-",
        gate,
        result.registered_version or "-",
        result.champion_version or result.champion_note or "-",
        "/".join(result.cache.get(step, "-") for step in STEPS),
    ]


def _champion_text(result: ChainResult) -> str:
    if result.champion_version:
        return f"version {result.champion_version}"
    if result.champion_note == "missing":
        return "missing (the model has no champion alias)"
    return result.champion_note or "none"


def _gate_line(result: ChainResult) -> str:
    """The gate line, true for this run: a reused register step says it decided in an
    earlier run, and what the champion is now."""
    if result.cache.get("register") == "hit":
        return (
            f"register reused run {result.run_ids.get('register', '-')}, which decided: "
            f"{result.gate_summary} | champion now: {_champion_text(result)}"
        )
    if result.champion_version is None and result.champion_note:
        return f"{result.gate_summary} | champion: {_champion_text(result)}"
    return result.gate_summary or ""


def format_summary(results: list[ChainResult]) -> str:
    """A fixed-width text table, one row per project, then one line per failure."""
    rows = [list(SUMMARY_COLUMNS), *(_summary_row(result) for result in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    for result in results:
        if not result.ok:
            lines.append(f"{result.project}: {result.failed_step} failed: {result.error}")
        elif result.gate_summary:
            lines.append(f"{result.project}: {_gate_line(result)}")
    counts = cache_counts(results)
    lines.append(
        "step cache: " + ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
    )
    return "\n".join(lines) + "\n"


def summary_json(results: list[ChainResult]) -> str:
    return json.dumps([result.as_dict() for result in results], indent=2, sort_keys=True) + "\n"

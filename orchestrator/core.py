"""Pure pieces of the orchestrator: which projects to run, what each chain produced,
and the summary table built from those results.

No MLflow and no processes here; ``orchestrator.chain`` does the running.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    failed_step: str | None = None
    error: str | None = None

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
)


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
        result.champion_version or "-",
    ]


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
            lines.append(f"{result.project}: {result.gate_summary}")
    return "\n".join(lines) + "\n"


def summary_json(results: list[ChainResult]) -> str:
    return json.dumps([result.as_dict() for result in results], indent=2, sort_keys=True) + "\n"

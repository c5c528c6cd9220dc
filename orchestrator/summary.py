"""What each project's chain produced, and the summary built from those results:
the table printed and logged as ``summary.txt``, ``summary.json``, the cache counts.
Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from lifecycle.step.runs import TRAINING_VIEW
from orchestrator import render
from orchestrator.selection import STEPS


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
    # The champion rule's decision on the registered version (first | promoted | kept)
    # and the paired test's one-sided p-value (None when no test ran).
    promotion_decision: str | None = None
    promotion_p_value: float | None = None
    # The rows the champion rule paired (count and digest) and its reason, in words.
    promotion_compared_on: str | None = None
    promotion_reason: str | None = None
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
    "promotion",
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
        _promotion_text(result),
        result.champion_version or result.champion_note or "-",
        "/".join(result.cache.get(step, "-") for step in STEPS),
    ]


def _promotion_text(result: ChainResult) -> str:
    """The champion rule's decision and its p-value: ``promoted p=0.0038``, ``kept
    p=0.25``, ``first`` (no champion to test against), ``-`` (nothing registered)."""
    if result.promotion_decision is None:
        return "-"
    if result.promotion_p_value is None:
        return result.promotion_decision
    return f"{result.promotion_decision} p={result.promotion_p_value:.4g}"


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


def _summary_notes(results: list[ChainResult]) -> list[str]:
    """One line per failure or gate decision, then the cache counts."""
    notes = []
    for result in results:
        if not result.ok:
            notes.append(f"{result.project}: {result.failed_step} failed: {result.error}")
        elif result.gate_summary:
            notes.append(f"{result.project}: {_gate_line(result)}")
    counts = cache_counts(results)
    notes.append(
        "step cache: " + ", ".join(f"{count} {outcome}" for outcome, count in counts.items())
    )
    return notes


def format_summary(results: list[ChainResult]) -> str:
    """A fixed-width text table, one row per project, then one line per failure."""
    rows = [_summary_row(result) for result in results]
    return render.fixed_width(SUMMARY_COLUMNS, rows, _summary_notes(results))


def summary_markdown(results: list[ChainResult], title: str, experiment_id: str) -> str:
    """The same table and lines in Markdown: the parent run's description, each run id a
    link to that run's page in experiment ``experiment_id`` (training view)."""
    rows = [_summary_row(result) for result in results]
    links = {
        run_id: f"#/experiments/{experiment_id}/runs/{run_id}?{TRAINING_VIEW}"
        for result in results
        for run_id in result.run_ids.values()
    }
    return render.markdown(title, SUMMARY_COLUMNS, rows, _summary_notes(results), links)


def summary_json(results: list[ChainResult]) -> str:
    return json.dumps([result.as_dict() for result in results], indent=2, sort_keys=True) + "\n"

"""What the orchestrator's ``monitor`` entry point found per project, the retrain
policy, and the summary table it prints. Pure."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from orchestrator import render

NEVER, ON_DRIFT, ON_DEGRADED = "never", "drift", "degraded"
RETRAIN_POLICIES: tuple[str, ...] = (NEVER, ON_DEGRADED, ON_DRIFT)
# The statuses each policy retrains on: drift retrains on any evidence of change, and a
# degradation is one; a check that could not be judged is never evidence.
RETRAINS_ON: dict[str, tuple[str, ...]] = {
    NEVER: (),
    ON_DEGRADED: ("degraded",),
    ON_DRIFT: ("drift", "degraded"),
}
WATCH_COLUMNS: tuple[str, ...] = (
    "project",
    "model",
    "status",
    "drifted features",
    "live metric",
    "action",
)


def should_retrain(policy: str, status: str | None) -> bool:
    """Whether ``policy`` retrains a project whose check ended in ``status``."""
    return status in RETRAINS_ON[policy]


@dataclass
class WatchResult:
    """One project's check, and what the orchestrator did about it."""

    project: str
    input: str = ""
    monitor_run_id: str | None = None
    model_uri: str | None = None
    status: str | None = None
    drifted_features: str = ""
    drift_share: float | None = None
    live_metric: str | None = None
    live_value: float | None = None
    live_p_value: float | None = None
    reason: str = ""
    retrained: bool = False
    # The retrain chain's outcome: its register decision and the champion after it.
    retrain_runs: dict[str, str] = field(default_factory=dict)
    retrain_version: str | None = None
    retrain_decision: str | None = None
    retrain_p_value: float | None = None
    # The rows the retrained model and the champion were compared on, the rule's reason,
    # and whether every step came from the step cache (so nothing new was decided).
    retrain_compared_on: str | None = None
    retrain_reason: str | None = None
    retrain_reused: bool = False
    champion_after: str | None = None
    failed_step: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed_step is None

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


def action_text(result: WatchResult, policy: str) -> str:
    """What was done: nothing (and why), or the retrain chain's outcome."""
    if result.failed_step == "monitor":
        return "none: the check failed"
    if not result.retrained:
        if result.status in RETRAINS_ON[ON_DRIFT] and policy == NEVER:
            return "none (retrain=never)"
        if result.status == "drift" and policy == ON_DEGRADED:
            return "none (retrain=degraded; only drift)"
        return "none"
    if result.failed_step is not None:
        return f"retrain FAILED at {result.failed_step}"
    if result.retrain_reused:
        return (
            f"retrain reused from the step cache: nothing new decided; champion "
            f"{result.champion_after or 'none'}"
        )
    if result.retrain_version is None:
        return "retrained: the gate refused it; champion unchanged"
    decision = result.retrain_decision or "registered"
    p_value = "" if result.retrain_p_value is None else f" p={result.retrain_p_value:.4g}"
    return (
        f"retrained: version {result.retrain_version} {decision}{p_value}; "
        f"champion {result.champion_after or 'none'}"
    )


def _drifted_text(result: WatchResult, shown: int = 3) -> str:
    names = [name for name in result.drifted_features.split(",") if name]
    if not names:
        return "-"
    more = f" +{len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _live_text(result: WatchResult) -> str:
    if result.live_metric is None or result.live_value is None:
        return "-"
    p_value = "" if result.live_p_value is None else f" (p={result.live_p_value:.4g})"
    return f"{result.live_metric}={result.live_value:.4f}{p_value}"


def _watch_rows(results: list[WatchResult], policy: str) -> list[list[str]]:
    rows = []
    for result in results:
        status = result.status or ("FAILED" if result.failed_step == "monitor" else "-")
        rows.append(
            [
                result.project,
                result.model_uri or "-",
                status,
                _drifted_text(result),
                _live_text(result),
                action_text(result, policy),
            ]
        )
    return rows


def _watch_notes(results: list[WatchResult]) -> list[str]:
    notes = []
    for result in results:
        if result.error:
            notes.append(f"{result.project}: {result.failed_step} failed: {result.error}")
        elif result.reason:
            notes.append(f"{result.project}: {result.reason}")
        if result.retrained and result.retrain_reused:
            notes.append(
                f"{result.project}: every retrain step matched a finished run (step cache); "
                f"the decision shown is the one made then, and nothing changed now"
            )
        elif result.retrained and result.retrain_version is not None:
            compared = f" on {result.retrain_compared_on}" if result.retrain_compared_on else ""
            notes.append(
                f"{result.project}: retrained version {result.retrain_version} compared with "
                f"the champion{compared}: {result.retrain_decision or 'registered'}"
                + (f" ({result.retrain_reason})" if result.retrain_reason else "")
            )
    return notes


def format_watch_summary(results: list[WatchResult], policy: str) -> str:
    """A fixed-width table, one row per project, then each project's reason."""
    return render.fixed_width(WATCH_COLUMNS, _watch_rows(results, policy), _watch_notes(results))


def watch_markdown(results: list[WatchResult], policy: str, title: str) -> str:
    """The same table and reasons in Markdown: the parent run's description."""
    return render.markdown(
        title, WATCH_COLUMNS, _watch_rows(results, policy), _watch_notes(results)
    )


def watch_json(results: list[WatchResult]) -> str:
    return json.dumps([result.as_dict() for result in results], indent=2, sort_keys=True) + "\n"

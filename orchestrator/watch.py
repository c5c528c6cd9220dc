"""The orchestrator's ``monitor`` entry point: under one parent run, each selected
project's ``monitor`` step checks its champion on the given input (or the project's
latest score output), and where the retrain policy says so the project's train ->
evaluate -> register chain runs, whose gate and champion rule decide whether a new
champion is earned. The parent records the summary (``monitor_summary.txt`` and
``.json``) and, when a project failed, the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle import contract
from orchestrator import core
from orchestrator.watch_summary import (
    WatchResult,
    format_watch_summary,
    should_retrain,
    watch_json,
    watch_markdown,
)

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from orchestrator.chain import ProjectPlan, StepRunner

logger = logging.getLogger(__name__)
MONITOR = "monitor"
SUMMARY_TEXT = "monitor_summary.txt"
SUMMARY_JSON = "monitor_summary.json"


@dataclass(frozen=True)
class WatchOptions:
    """The validated options of one monitor orchestration."""

    given: dict[str, str]  # as the user gave them, logged as the parent's parameters
    selected: list[str]
    env_manager: str
    experiment_name: str
    slots: int
    caching: bool
    forced: frozenset[str]
    overrides: dict[str, dict[str, str]]
    retrain: str


@dataclass(frozen=True)
class WatchOutcome:
    parent_run_id: str
    results: list[WatchResult]
    table: str
    link: str  # the parent run in MLflow's UI, training view

    @property
    def failed(self) -> list[str]:
        return [result.project for result in self.results if not result.ok]


def score_experiments(runner: StepRunner) -> list[str]:
    """Where score runs may be: this run's experiment, and the collection's own, where a
    step run with ``python -m`` logs when no experiment is named."""
    ids = [runner.experiment_id]
    collection = runner.client.get_experiment_by_name(contract.EXPERIMENT)
    if collection is not None and collection.lifecycle_stage == "active":
        ids.append(str(collection.experiment_id))
    return list(dict.fromkeys(ids))


def latest_score_output(client: MlflowClient, experiment_ids: list[str], project: str) -> str:
    """The output of the project's latest finished score run, checked against its
    manifest; ``LookupError`` if there is none, or it is no longer whole."""
    runs = client.search_runs(
        experiment_ids,
        filter_string=(
            f"tags.`{contract.PROJECT}` = '{project}' and tags.`{contract.STEP}` = 'score' "
            f"and attributes.status = 'FINISHED'"
        ),
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    output = runs[0].data.tags.get(contract.OUTPUT) if runs else None
    if not output:
        names = []
        for experiment_id in experiment_ids:
            experiment = client.get_experiment(experiment_id)
            names.append(f"{experiment.name!r} ({experiment_id})")
        raise LookupError(
            f"no input given and no finished {project} score run to monitor in experiment(s) "
            f"{', '.join(names)}: pass -P params={project}.input=<table>"
        )
    from lifecycle.errors import DataError
    from lifecycle.io.locations import locate
    from lifecycle.io.manifests import verify

    try:  # read as its manifest lists it, or not at all
        verify(locate(output))
    except DataError as error:
        raise LookupError(
            f"the latest {project} score output cannot be monitored: {error}; pass "
            f"-P params={project}.input=<table>"
        ) from error
    return output


def _read_check(client: MlflowClient, run_id: str, result: WatchResult) -> None:
    data = client.get_run(run_id).data
    tags, metrics = data.tags, data.metrics
    result.status = tags.get(contract.monitor("status"))
    drifted = tags.get(contract.monitor("drifted_features"), "none")
    result.drifted_features = "" if drifted == "none" else drifted
    result.drift_share = metrics.get("drift_share")
    result.reason = tags.get(contract.monitor("reason"), "")
    result.model_uri = tags.get(contract.MODEL_URI)
    live = tags.get(contract.monitor("live_metric"))
    if live and live in metrics:
        result.live_metric = live
        result.live_value = metrics[live]
        result.live_p_value = metrics.get("live_p_value")


def watch_project(plan: ProjectPlan, runner: StepRunner, retrain: str) -> WatchResult:
    """Check one project's champion, then retrain it if the policy says so; a failure
    stops this project only."""
    from orchestrator.chain import run_chain

    client = runner.client
    result = WatchResult(project=plan.name)
    try:
        runner.adopt_parent()
        given = plan.overrides.get("input", "")
        result.input = given or latest_score_output(client, score_experiments(runner), plan.name)
        parameters = core.step_parameters(
            plan.declared[MONITOR],
            plan.overrides,
            {"input": result.input, "fail_on": "none"},
            MONITOR,
        )
        run_id = runner.start(plan.directory, MONITOR, parameters)
        result.monitor_run_id = run_id
        _read_check(client, run_id, result)
    except Exception as error:  # this project's check failed; the others go on
        result.failed_step = MONITOR
        failed_id = getattr(error, "run_id", None)
        reason = str(error)
        if failed_id:
            result.monitor_run_id = failed_id
            reason = client.get_run(failed_id).data.tags.get(contract.FAILURE_REASON, reason)
        result.error = reason or type(error).__name__
        logger.debug("%s: monitor failed: %s", plan.name, result.error)
        return result
    if should_retrain(retrain, result.status):
        logger.debug("%s: status %s, retrain=%s: retraining", plan.name, result.status, retrain)
        result.retrained = True
        chain = run_chain(plan, runner)
        result.retrain_runs = dict(chain.run_ids)
        result.retrain_version = chain.registered_version
        result.retrain_decision = chain.promotion_decision
        result.retrain_p_value = chain.promotion_p_value
        result.retrain_compared_on = chain.promotion_compared_on
        result.retrain_reason = chain.promotion_reason
        result.retrain_reused = all(state == "hit" for state in chain.cache.values()) and bool(
            chain.cache
        )
        result.champion_after = chain.champion_version
        if not chain.ok:
            result.failed_step = chain.failed_step
            result.error = chain.error
    return result


def watch(options: WatchOptions, repository_root: Path) -> WatchOutcome:
    """Run every selected project's check (and retrain) under one parent run."""
    from functools import partial

    from orchestrator import parent

    plans = parent.plans_for(options.selected, repository_root, options.overrides, options.forced)
    started = parent.start(
        contract.run_name(contract.ORCHESTRATOR, MONITOR),
        options.experiment_name,
        options.given,
        {contract.STEP: "orchestrator.monitor"},
    )
    runner = parent.step_runner(
        started,
        env_manager=options.env_manager,
        slots=options.slots,
        caching=options.caching,
        repository_root=repository_root,
        projects=options.selected,
        steps=(MONITOR, *core.STEPS),
    )
    try:
        results = parent.run_concurrently(
            plans, runner, partial(watch_project, retrain=options.retrain)
        )
    except BaseException as error:
        parent.fail(started, error)
        raise
    table = format_watch_summary(results, options.retrain)
    title = f"Monitor: {', '.join(options.selected)} (retrain={options.retrain})"
    failed = [result for result in results if not result.ok]
    link = parent.finish(
        started,
        markdown=watch_markdown(results, options.retrain, title),
        texts={SUMMARY_TEXT: table, SUMMARY_JSON: watch_json(results)},
        tags={
            "orchestrator.projects": ",".join(options.selected),
            "orchestrator.failed_projects": ",".join(r.project for r in failed) or "none",
            "orchestrator.statuses": ",".join(
                f"{r.project}={r.status or 'failed'}" for r in results
            ),
        },
        failures=[f"{r.project}: {r.failed_step} failed: {r.error}" for r in failed],
    )
    return WatchOutcome(started.run_id, results, table, link)

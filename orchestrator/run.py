"""One orchestration: the projects' chains run under one parent run
(``orchestrator.parent``), which records the orchestrator's parameters, the summary
(``summary.txt``, ``summary.json``), the cache counts and, when a project failed or the
run was stopped, its failure reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lifecycle import contract
from orchestrator import core
from orchestrator.summary import ChainResult


@dataclass(frozen=True)
class Options:
    """The orchestrator's options, validated, with the overrides parsed per project."""

    projects: str
    env_manager: str
    experiment_name: str
    params: str
    max_parallel: int
    use_cache: str
    force: str
    selected: list[str]
    slots: int
    caching: bool
    forced: frozenset[str]
    overrides: dict[str, dict[str, str]]


@dataclass(frozen=True)
class Outcome:
    """What an orchestration produced: each chain's result and the summary table."""

    parent_run_id: str
    results: list[ChainResult]
    table: str
    link: str  # the parent run in MLflow's UI, training view

    @property
    def failed(self) -> list[str]:
        return [result.project for result in self.results if not result.ok]


def orchestrate(options: Options, repository_root: Path) -> Outcome:
    """Run the selected projects' chains under one parent run and record the outcome."""
    from orchestrator import parent
    from orchestrator.chain import run_chain

    plans = parent.plans_for(options.selected, repository_root, options.overrides, options.forced)
    started = parent.start(
        contract.ORCHESTRATOR,
        options.experiment_name,
        {
            "projects": options.projects,
            "env_manager": options.env_manager,
            "experiment_name": options.experiment_name,
            "params": options.params,
            "max_parallel": str(options.max_parallel),
            "use_cache": options.use_cache,
            "force": options.force,
        },
    )
    runner = parent.step_runner(
        started,
        env_manager=options.env_manager,
        slots=options.slots,
        caching=options.caching,
        repository_root=repository_root,
        projects=options.selected,
        steps=core.STEPS,
    )
    try:
        results = parent.run_concurrently(plans, runner, run_chain)
    except BaseException as error:
        parent.fail(started, error)
        raise
    table = core.format_summary(results)
    failed = [result.project for result in results if not result.ok]
    title = f"Orchestrator: {', '.join(options.selected)}"
    link = parent.finish(
        started,
        markdown=core.summary_markdown(results, title, started.steps_experiment_id),
        texts={"summary.txt": table, "summary.json": core.summary_json(results)},
        tags={
            "orchestrator.projects": ",".join(options.selected),
            "orchestrator.failed_projects": ",".join(failed) or "none",
            "orchestrator.max_parallel": str(options.slots),
            "orchestrator.cache": json.dumps(
                {result.project: result.cache for result in results}, sort_keys=True
            ),
        },
        metrics={
            f"cache_{outcome}": count for outcome, count in core.cache_counts(results).items()
        },
        failures=[
            f"{result.project}: {result.failed_step} failed: {result.error}"
            for result in results
            if not result.ok
        ],
    )
    return Outcome(started.run_id, results, table, link)

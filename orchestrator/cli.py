"""The orchestrator's command line, its options declared in ``orchestrator.params``:
checks them and every project override (with the project's own rules, before anything
starts), runs the orchestration (``orchestrator.run``), prints the summary table, and
exits non-zero if any project failed."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from lifecycle.step.command import configure_logging, declared
from lifecycle.step.command import validated as _validated
from orchestrator import core
from orchestrator.params import PROJECT, OrchestratorParams, WatchParams

logger = logging.getLogger("orchestrator")

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def _report(table: str, failed: list[str], link: str) -> None:
    """Print the summary and where to see it in MLflow's UI; exit 1 naming the projects
    that failed, if any did."""
    click.echo("")
    click.echo(table, nl=False)
    click.echo(f"in MLflow's UI (mlflow ui, training view): {link}")
    if failed:
        click.echo(f"orchestrator: {len(failed)} project(s) failed: {', '.join(failed)}", err=True)
        raise click.exceptions.Exit(1)


def orchestrate_projects(options: OrchestratorParams, verbose: bool) -> None:
    """Chain train -> evaluate -> register for each selected project, concurrently."""
    configure_logging(verbose)
    projects, params = options.projects, options.params
    selected = _validated(core.select_projects, projects, core.discover_projects(REPOSITORY_ROOT))
    slots = core.step_slots(options.max_parallel, os.cpu_count() or 1)
    caching = _validated(core.parse_flag, "use_cache", options.use_cache)
    forced = _validated(core.parse_force, options.force, selected)
    declared = {
        name: core.entry_point_parameters((REPOSITORY_ROOT / name / "MLproject").read_text())
        for name in selected
    }
    overrides = _validated(core.parse_overrides, params, selected, declared)
    from orchestrator.checks import check_project

    for name in selected:
        _validated(
            check_project, name, REPOSITORY_ROOT / name, declared[name], overrides.get(name, {})
        )

    from orchestrator.run import Options, orchestrate

    outcome = orchestrate(
        Options(
            projects=projects,
            env_manager=options.env_manager,
            experiment_name=options.experiment_name,
            params=params,
            max_parallel=options.max_parallel,
            use_cache=options.use_cache,
            force=options.force,
            selected=selected,
            slots=slots,
            caching=caching,
            forced=forced,
            overrides=overrides,
        ),
        REPOSITORY_ROOT,
    )
    _report(outcome.table, outcome.failed, outcome.link)


def monitor_projects(options: WatchParams, verbose: bool) -> None:
    """Monitor each selected project's champion and retrain where the policy says so."""
    configure_logging(verbose)
    selected = _validated(
        core.select_projects, options.projects, core.discover_projects(REPOSITORY_ROOT)
    )
    declared = {
        name: core.entry_point_parameters((REPOSITORY_ROOT / name / "MLproject").read_text())
        for name in selected
    }
    without_monitor = [name for name in selected if "monitor" not in declared[name]]
    if without_monitor:
        raise click.BadParameter(
            f"projects={options.projects!r}: {', '.join(without_monitor)} has no monitor "
            f"entry point",
            param_hint="--projects",
        )
    overrides = _validated(
        core.parse_overrides, options.params, selected, declared, (*core.STEPS, "monitor")
    )
    from orchestrator.checks import check_monitor, check_project

    for name in selected:
        given = overrides.get(name, {})
        _validated(check_monitor, name, REPOSITORY_ROOT / name, declared[name], given)
        if options.retrain != "never":
            _validated(check_project, name, REPOSITORY_ROOT / name, declared[name], given)

    from orchestrator.watch import WatchOptions, watch

    outcome = watch(
        WatchOptions(
            given={key: str(value) for key, value in options.as_dict().items()},
            selected=selected,
            env_manager=options.env_manager,
            experiment_name=options.experiment_name,
            slots=core.step_slots(options.max_parallel, os.cpu_count() or 1),
            caching=_validated(core.parse_flag, "use_cache", options.use_cache),
            forced=_validated(core.parse_force, options.force, selected),
            overrides=overrides,
            retrain=options.retrain,
        ),
        REPOSITORY_ROOT,
    )
    _report(outcome.table, outcome.failed, outcome.link)


monitor = declared(
    PROJECT.entry_point("monitor"),
    monitor_projects,
    name="monitor",
    extra=(click.Option(["-v", "--verbose"], is_flag=True, help="Show every log line (DEBUG)."),),
)


main = declared(
    PROJECT.entry_point("main"),
    orchestrate_projects,
    name="orchestrator",
    extra=(click.Option(["-v", "--verbose"], is_flag=True, help="Show every log line (DEBUG)."),),
)


if __name__ == "__main__":
    main()

"""The orchestrator's command line: parses and checks its options and every project
override (with the project's own rules, before anything starts), runs the orchestration
(``orchestrator.run``), prints the summary table, and exits non-zero if any project
failed."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from lifecycle.command import configure_logging
from lifecycle.command import validated as _validated
from orchestrator import core

logger = logging.getLogger("orchestrator")

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


@click.command()
@click.option(
    "--projects",
    type=str,
    default="all",
    show_default=True,
    help="Comma-separated project folders to run, or 'all'.",
)
@click.option(
    "--env-manager",
    type=str,
    default="local",
    show_default=True,
    help=f"Environment manager for the steps: {', '.join(core.ENV_MANAGERS)}.",
)
@click.option(
    "--experiment-name",
    type=str,
    default="",
    show_default=True,
    help="Experiment for the step runs; empty: the parent run's experiment.",
)
@click.option(
    "--params",
    type=str,
    default="",
    show_default=True,
    help="Step parameters as project.name=value, comma-separated (e.g. iris.max_depth=3).",
)
@click.option(
    "--max-parallel",
    type=int,
    default=0,
    show_default=True,
    help="Most step processes at once; 0 means the number of cores.",
)
@click.option(
    "--use-cache",
    type=str,
    default="true",
    show_default=True,
    help="Reuse a finished step run whose cache key matches: true or false.",
)
@click.option(
    "--force",
    type=str,
    default="none",
    show_default=True,
    help="Projects whose steps run even when cached: none, all, or a comma-separated list.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def main(
    projects: str,
    env_manager: str,
    experiment_name: str,
    params: str,
    max_parallel: int,
    use_cache: str,
    force: str,
    verbose: bool,
) -> None:
    """Chain train -> evaluate -> register for each selected project, concurrently."""
    configure_logging(verbose)
    selected = _validated(core.select_projects, projects, core.discover_projects(REPOSITORY_ROOT))
    _validated(core.validate_env_manager, env_manager)
    slots = _validated(core.validate_max_parallel, max_parallel, os.cpu_count() or 1)
    caching = _validated(core.parse_flag, "use_cache", use_cache)
    forced = _validated(core.parse_force, force, selected)
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
            env_manager=env_manager,
            experiment_name=experiment_name,
            params=params,
            max_parallel=max_parallel,
            use_cache=use_cache,
            force=force,
            selected=selected,
            slots=slots,
            caching=caching,
            forced=forced,
            overrides=overrides,
        ),
        REPOSITORY_ROOT,
    )
    click.echo(outcome.table, nl=False)
    if outcome.failed:
        failed = outcome.failed
        click.echo(f"orchestrator: {len(failed)} project(s) failed: {', '.join(failed)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The orchestrator entry point: runs the selected projects' chains concurrently under one
parent run, reusing cached steps, prints the summary table, logs it as ``summary.txt`` /
``summary.json`` with the cache hits and misses, and exits non-zero if any project failed."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import click

from lifecycle import contract
from orchestrator import core

logger = logging.getLogger("orchestrator")

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def _validated(build, *args):
    try:
        return build(*args)
    except core.ParameterError as error:
        raise click.BadParameter(
            f"{error.name}={error.value!r}: {error.allowed}",
            param_hint=f"--{error.name.replace('_', '-')}",
        ) from error


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the run as Ctrl-C does: step processes are cancelled, runs FAILED."""
    raise KeyboardInterrupt(_STOP_REASON.get("reason") or f"stopped by signal {signum}")


_STOP_REASON: dict[str, str] = {}
SHELLS = frozenset({"bash", "sh", "dash", "zsh"})
WATCH_SECONDS = 0.5


def _stat(pid: int) -> tuple[str, int, str] | None:
    """(command name, parent pid, start time) of a live process; None once it is gone
    or a zombie (dead, waiting for its own parent to reap it)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return name, int(fields[1]), fields[19]


def launcher() -> tuple[int, str] | None:
    """The process that started this one, as (pid, start time): the parent, or under
    ``mlflow run`` the first ancestor that is not the shell MLflow runs the command in."""
    pid = os.getppid()
    under_mlflow_run = "MLFLOW_RUN_ID" in os.environ
    for _ in range(8):  # a few shells at most
        stat = _stat(pid)
        if stat is None or pid <= 1:
            return None
        name, parent, started = stat
        if not (under_mlflow_run and name in SHELLS):
            return pid, started
        pid = parent
    return None


def watch_launcher(target: tuple[int, str], on_death: object) -> threading.Thread:
    """A daemon thread that calls ``on_death`` once the launcher is gone (killed, even by
    SIGKILL, which ``mlflow run`` cannot pass on). It checks every ``WATCH_SECONDS``."""
    pid, started = target

    def watch() -> None:
        while True:
            time.sleep(WATCH_SECONDS)
            stat = _stat(pid)
            if stat is None or stat[2] != started:
                on_death(pid)
                return

    thread = threading.Thread(target=watch, name="launcher-watchdog", daemon=True)
    thread.start()
    return thread


def _stop_because_launcher_died(pid: int) -> None:
    reason = f"the process that started the orchestrator (pid {pid}) is gone"
    logger.error("%s: stopping", reason)
    _STOP_REASON["reason"] = reason
    os.kill(os.getpid(), signal.SIGTERM)


def _children_experiment_id(experiment_name: str, parent_experiment_id: str) -> str:
    import mlflow

    if not experiment_name:
        return parent_experiment_id
    experiment = mlflow.get_experiment_by_name(experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    return mlflow.create_experiment(experiment_name)


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
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
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

    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    from orchestrator.chain import StepRunner, plan_project, run_chains

    plans = [
        plan_project(
            REPOSITORY_ROOT / name, REPOSITORY_ROOT, overrides.get(name, {}), name in forced
        )
        for name in selected
    ]
    if experiment_name and "MLFLOW_RUN_ID" not in os.environ:
        # Run directly (not by `mlflow run`): the parent run goes to the named experiment too.
        mlflow.set_experiment(experiment_name)
    signal.signal(signal.SIGTERM, _interrupt)
    started_by = launcher()
    if started_by is not None:
        watch_launcher(started_by, _stop_because_launcher_died)
    parent = mlflow.start_run()
    parent_id = parent.info.run_id
    client = mlflow.MlflowClient()
    existing = client.get_run(parent_id).data.params
    given = {
        "projects": projects,
        "env_manager": env_manager,
        "experiment_name": experiment_name,
        "params": params,
        "max_parallel": str(max_parallel),
        "use_cache": use_cache,
        "force": force,
    }
    new = [Param(key, value) for key, value in given.items() if key not in existing]
    if new:
        client.log_batch(parent_id, params=new)
    runner = StepRunner(
        client=client,
        experiment_id=_children_experiment_id(experiment_name, parent.info.experiment_id),
        parent_run_id=parent_id,
        env_manager=env_manager,
        max_parallel=slots,
        use_cache=caching,
        repository_root=REPOSITORY_ROOT,
    )
    try:
        results = run_chains(plans, runner)
    except BaseException as error:
        reason = str(error) or type(error).__name__
        if isinstance(error, KeyboardInterrupt):
            reason = f"interrupted ({reason}): the running steps were stopped"
        client.set_tag(parent_id, contract.FAILURE_REASON, reason[:4000])
        mlflow.end_run(status="FAILED")
        raise
    table = core.format_summary(results)
    mlflow.log_text(table, "summary.txt")
    mlflow.log_text(core.summary_json(results), "summary.json")
    failed = [result.project for result in results if not result.ok]
    counts = core.cache_counts(results)
    client.log_batch(
        parent_id,
        metrics=[
            Metric(f"cache_{outcome}", count, int(time.time() * 1000), 0)
            for outcome, count in counts.items()
        ],
        tags=[
            RunTag("orchestrator.projects", ",".join(selected)),
            RunTag("orchestrator.failed_projects", ",".join(failed) or "none"),
            RunTag("orchestrator.max_parallel", str(slots)),
            RunTag(
                "orchestrator.cache",
                json.dumps({result.project: result.cache for result in results}, sort_keys=True),
            ),
        ],
    )
    if failed:
        client.set_tag(
            parent_id,
            contract.FAILURE_REASON,
            "; ".join(
                f"{result.project}: {result.failed_step} failed: {result.error}"
                for result in results
                if not result.ok
            )[:4000],
        )
    mlflow.end_run(status="FAILED" if failed else "FINISHED")
    click.echo(table, nl=False)
    if failed:
        click.echo(f"orchestrator: {len(failed)} project(s) failed: {', '.join(failed)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

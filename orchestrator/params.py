"""The orchestrator's own entry point and its parameters, declared once (``PROJECT``),
as each project declares its own: the repository's ``MLproject``, the orchestrator's
click options and the table in docs/orchestrator.md are generated from here
(``python -m lifecycle.sync``). The checks that need the repository (which projects
exist) or the machine (its cores) are in ``orchestrator.selection``. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.params import Declared, EntryPoint, ProjectDeclaration, param
from orchestrator.selection import ALL, ENV_MANAGERS, FLAG_WORDS, NONE
from orchestrator.watch_summary import NEVER, RETRAIN_POLICIES


@dataclass(frozen=True)
class OrchestratorParams(Declared):
    """Which projects, how their steps get an environment, where they log, what they
    are given, how many run at once, and the step cache."""

    projects: str = param(
        ALL,
        help="the project folders to run",
        allowed=f"comma-separated project folders, or {ALL} (every folder with an MLproject)",
    )
    env_manager: str = param(
        "local", help="how the steps get their environment", choices=ENV_MANAGERS
    )
    experiment_name: str = param(
        "",
        help="the experiment for the step runs",
        allowed="empty: the parent run's experiment (choose it with mlflow run --experiment-name)",
    )
    params: str = param(
        "",
        help="step parameters, each going to every step of that project that declares it",
        allowed="project.name=value, comma-separated (\\, for a comma in a value); each "
        "once, checked by the project's own rules before anything runs",
    )
    max_parallel: int = param(
        0,
        help="the most step processes at once",
        low=0,
        high=1024,
        allowed="0 means the number of cores",
    )
    use_cache: str = param(
        "true",
        help="reuse a finished step run whose cache key matches",
        allowed=f"true or false, in any case ({', '.join(FLAG_WORDS)})",
    )
    force: str = param(
        NONE,
        help="projects whose steps run even when cached",
        allowed=f"{NONE}, {ALL}, or comma-separated projects",
    )


@dataclass(frozen=True)
class WatchParams(OrchestratorParams):
    """The orchestrator's options, and when a check retrains its project. The monitor
    step's own parameters (``input``, ``truth``, ``alpha``, ...) go in ``params`` as
    ``project.name=value``; without an ``input``, a project's latest score output is
    monitored."""

    retrain: str = param(
        NEVER,
        help="which status retrains a project (train -> evaluate -> register, whose gate "
        "and champion rule then decide): degraded, drift (drift or degraded) or never",
        choices=RETRAIN_POLICIES,
    )


PROJECT = ProjectDeclaration(
    name="mlflow-lifecycle",
    package="orchestrator",
    summary="The orchestrator: for each selected project, train -> evaluate -> register, "
    "each step\nits own `mlflow.run`, tagged as a child of this run. Hands forward run ids "
    "and model URIs.\nThe projects' chains run concurrently (at most max_parallel step "
    "processes, 0 = cores),\nand a step whose cache key matches a finished run is reused "
    "(use_cache, force).\nThe monitor entry point checks each champion and retrains on evidence "
    "(retrain).",
    entry_points=(
        EntryPoint(
            command="main",
            help="Chain train -> evaluate -> register for each selected project, concurrently.",
            declared=(OrchestratorParams,),
        ),
        EntryPoint(
            command="monitor",
            help="Monitor each selected project's champion on its input (or its latest "
            "score output), print the statuses, and retrain where the policy says so.",
            declared=(WatchParams,),
        ),
    ),
)

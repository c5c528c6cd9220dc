"""``python -m bench``: measures every figure of the performance report side by side, in
one run on this machine, and prints one table: each figure, its ratio to its floor or
baseline, the target, and the peak RSS.

Each timed figure runs as its own process tree against a fresh sqlite tracking store
(a copy of an empty one), except the warm orchestrator run, which re-uses the cold run's
store, and the serving figures, which serve the cold run's ``iris@champion``.
``--quick`` runs a reduced version (iris only, tiny grids, few requests) that checks
the benchmark works; its timings mean little.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.deploy import FULL_DEPLOY, QUICK_DEPLOY, measure_deploy
from bench.load import iris_payload, run_load
from bench.measure import (
    Measurement,
    Row,
    format_table,
    machine_description,
    ratio_row,
    run_measured,
)
from bench.scaling import FULL_SCALE, QUICK_SCALE, measure_scale
from deploy import processes

logger = logging.getLogger("bench")

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = "bench"
SERVER_START_SECONDS = 180
STEP_RSS_LIMIT_MIB = 300


@dataclass(frozen=True)
class Plan:
    """How big each figure is; the full plan is the issue's, ``--quick`` is a smoke run."""

    projects: str
    grid: tuple[str, str]  # max_leaf_nodes grid, max_depth grid
    large_grid: tuple[str, str]
    serve_requests: int
    concurrency: int

    @property
    def grid_size(self) -> int:
        return _size(self.grid)

    @property
    def large_grid_size(self) -> int:
        return _size(self.large_grid)


def _size(grid: tuple[str, str]) -> int:
    sys.path.insert(0, str(REPOSITORY_ROOT / "iris"))
    from iris_workflow import tuning

    leaves = tuning.parse_grid("max_leaf_nodes_grid", grid[0], 2)
    depths = tuning.parse_grid("max_depth_grid", grid[1], 1)
    return len(leaves) * len(depths)


FULL = Plan(
    projects="iris,gold_prices,cities",
    grid=("2..11", "1..10"),
    large_grid=("2..101", "1..10"),
    serve_requests=2000,
    concurrency=4,
)
QUICK = Plan(
    projects="iris",
    grid=("2..3", "1..1"),
    large_grid=("2..11", "1..2"),
    serve_requests=40,
    concurrency=2,
)


class Stores:
    """Fresh sqlite tracking stores, each a copy of one empty store made once."""

    def __init__(self, workdir: Path, base_env: dict[str, str]) -> None:
        self.workdir = workdir
        self.base_env = base_env
        self.template = workdir / "template.db"
        subprocess.run(
            [sys.executable, "-m", "mlflow", "db", "upgrade", f"sqlite:///{self.template}"],
            env=base_env,
            check=True,
            capture_output=True,
        )

    def fresh(self, name: str) -> dict[str, str]:
        """The environment of a process that logs into a new, empty store ``name``."""
        import mlflow

        folder = self.workdir / name
        folder.mkdir()
        shutil.copyfile(self.template, folder / "mlflow.db")
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        mlflow.MlflowClient(tracking_uri=uri).create_experiment(
            EXPERIMENT, artifact_location=(folder / "artifacts").as_uri()
        )
        return {**self.base_env, "MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": EXPERIMENT}


def base_environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MLFLOW_")}
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def cached_steps(stdout: str) -> str:
    match = re.search(r"step cache: (\d+) hit, (\d+) miss", stdout)
    if not match:
        return "?"
    hits, misses = int(match.group(1)), int(match.group(2))
    return f"{hits}/{hits + misses} steps cached"


def model_server(env: dict[str, str], model_uri: str, workdir: Path):
    """``mlflow models serve`` on a free loopback port; stopped by its PID (and group)."""
    return processes.model_server(
        env, model_uri, workdir, mlflow=python("-m", "mlflow"), timeout=SERVER_START_SECONDS
    )


def server_peak_mib(pid: int) -> float:
    from bench.measure import _peak_kib, process_tree

    readings = [_peak_kib(child) for child in process_tree(pid)]
    return max((reading[0] for reading in readings if reading), default=0) / 1024


@dataclass(frozen=True)
class Timed:
    """One timed figure: the command it runs, the store it runs against, and the figure
    it is compared with, with its target."""

    key: str
    label: str  # formatted with steps, n (grid size), big (large grid size), cached
    command: Callable[[Plan], list[str]]
    store: str  # a fresh store's name, or "=<key>": the store of an earlier figure
    against: str = ""  # the key of the figure it is compared with
    against_label: str = ""  # how the table names that figure
    target: tuple[str, float] | None = None
    cwd: Path = REPOSITORY_ROOT


def _projects(plan: Plan) -> list[str]:
    return ["--projects", plan.projects]


def _grid(plan: Plan) -> list[str]:
    return ["--max-leaf-nodes-grid", plan.grid[0], "--max-depth-grid", plan.grid[1]]


def _large_grid(plan: Plan) -> list[str]:
    return ["--max-leaf-nodes-grid", plan.large_grid[0], "--max-depth-grid", plan.large_grid[1]]


IRIS = REPOSITORY_ROOT / "iris"
TIMED: tuple[Timed, ...] = (
    Timed(
        "floor",
        "in-process floor ({steps} steps, 1 process)",
        lambda plan: python("-m", "bench.floor", *_projects(plan)),
        "floor",
    ),
    Timed(
        "cold",
        "cold orchestrator (concurrent chains, empty store)",
        lambda plan: python("-m", "orchestrator", *_projects(plan)),
        "orchestrator",
        against="floor",
        target=("<=", 3.0),
    ),
    Timed(
        "baseline",
        "step-per-process baseline (sequential mlflow.run)",
        lambda plan: python("-m", "bench.baseline", *_projects(plan)),
        "baseline",
        against="cold",
        target=(">=", 2.0),
    ),
    Timed(
        "warm",
        "warm orchestrator ({cached})",
        lambda plan: python("-m", "orchestrator", *_projects(plan)),
        "=cold",
        against="cold",
        target=("<=", 0.1),
    ),
    Timed(
        "grid_floor",
        "grid floor: compute + 1 log_batch per config ({n})",
        lambda plan: python("-m", "bench.grids", "floor", *_grid(plan)),
        "grid_floor",
    ),
    Timed(
        "tune",
        "iris tune, {n} configs",
        lambda plan: python("-m", "iris_workflow", "tune", *_grid(plan)),
        "tune",
        against="grid_floor",
        against_label="grid floor",
        target=("<=", 1.3),
        cwd=IRIS,
    ),
    Timed(
        "tutorial",
        "tutorial-style grid, {n} configs",
        lambda plan: python("-m", "bench.grids", "tutorial", *_grid(plan)),
        "tutorial",
        against="tune",
        target=(">=", 20.0),
    ),
    Timed(
        "tune_large",
        "iris tune, {big} configs",
        lambda plan: python("-m", "iris_workflow", "tune", *_large_grid(plan)),
        "tune_large",
        against="tune",
        against_label="tune, {n}",
        cwd=IRIS,
    ),
)


def measure_all(plan: Plan, workdir: Path) -> tuple[list[Row], dict[str, object]]:
    env = base_environment()
    stores = Stores(workdir, env)
    store_of: dict[str, dict[str, str]] = {}
    measured: dict[str, Measurement] = {}
    for timed in TIMED:
        logger.info("measuring %s", timed.key)
        store = (
            store_of[timed.store[1:]] if timed.store.startswith("=") else stores.fresh(timed.store)
        )
        store_of[timed.key] = store
        measured[timed.key] = run_measured(timed.command(plan), store, timed.cwd).check(timed.key)
    figures: dict[str, object] = {
        key: {"seconds": m.seconds, "peak_mib": m.tree_peak_mib} for key, m in measured.items()
    }
    cold = measured["cold"]
    n, big = plan.grid_size, plan.large_grid_size
    words = {
        "steps": 3 * len(plan.projects.split(",")),
        "n": n,
        "big": big,
        "cached": cached_steps(measured["warm"].stdout),
    }
    rows = [
        ratio_row(
            timed.label.format(**words),
            measured[timed.key].seconds,
            measured[timed.against].seconds if timed.against else None,
            (timed.against_label or timed.against).format(**words),
            timed.target,
            peak_mib=measured[timed.key].tree_peak_mib,
        )
        for timed in TIMED
    ]
    per_config = (measured["tune_large"].seconds - measured["tune"].seconds) / (big - n) * 1000
    figures["tune_marginal_ms_per_config"] = per_config
    rows.append(
        Row(figure=f"tune cost per extra config ({n} -> {big})", value=f"{per_config:.1f} ms")
    )
    # Exact peak of the largest process in the cold run (a step: each outweighs the
    # orchestrator), attributed to the step whose sampled peak was largest.
    step_mib = cold.tree_peak_mib
    biggest_step = " ".join(cold.peak("_workflow")[1].split(" -m ")[-1].split()[:2])
    rows.append(
        Row(
            figure=f"peak RSS of any step process (cold run: {biggest_step})",
            value=f"{step_mib:.0f} MiB",
            target=f"<= {STEP_RSS_LIMIT_MIB} MiB",
            verdict="met" if step_mib <= STEP_RSS_LIMIT_MIB else "MISSED",
        )
    )

    cold_env = store_of["cold"]
    logger.info("measuring serving of models:/iris@champion")
    with model_server(cold_env, "models:/iris@champion", workdir) as (url, pid):
        for size in (1, 1000):
            body = iris_payload(size)
            run_load(url, body, min(20, plan.serve_requests), 1)  # warm-up
            result = run_load(url, body, plan.serve_requests, plan.concurrency)
            figures[f"serve_{size}_rows"] = {
                "requests_per_second": result.per_second,
                "p50_ms": result.latency_ms(0.5),
                "p99_ms": result.latency_ms(0.99),
                "requests": result.requests,
            }
            latency = f"p50 {result.latency_ms(0.5):.1f} ms, p99 {result.latency_ms(0.99):.1f} ms"
            rows.append(
                Row(
                    figure=(
                        f"serve iris@champion, {size}-row payload "
                        f"({result.requests} requests, {plan.concurrency} clients)"
                    ),
                    value=f"{result.per_second:.0f} req/s",
                    against=latency,
                    peak_rss=f"{server_peak_mib(pid):.0f} MiB",
                )
            )
    return rows, figures


def header() -> str:
    from importlib.metadata import version

    return (
        f"machine: {machine_description()}; {platform.system()} {platform.release()}\n"
        f"python {platform.python_version()}, mlflow {version('mlflow')}, "
        f"scikit-learn {version('scikit-learn')}; {time.strftime('%Y-%m-%d %H:%M %Z')}\n"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a reduced run that checks the benchmark works"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the scratch stores and logs")
    parser.add_argument(
        "--part",
        choices=("all", "lifecycle", "scale", "deploy"),
        default="all",
        help="lifecycle: the orchestrator, tuning and serving figures; scale: batch "
        "scoring, Spark and the gold study (bench/scaling.py); deploy: the serving "
        "deployment's proxy cost, promotions and rollback (bench/deploy.py)",
    )
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    plan = QUICK if options.quick else FULL
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        rows: list[Row] = []
        figures: dict[str, object] = {}
        if options.part in ("all", "lifecycle"):
            rows, figures = measure_all(plan, workdir)
        if options.part in ("all", "scale"):
            (workdir / "scale").mkdir()
            scale_rows, scale_figures = measure_scale(
                QUICK_SCALE if options.quick else FULL_SCALE,
                Stores(workdir / "scale", base_environment()).fresh("scale"),
                workdir / "scale",
            )
            rows += scale_rows
            figures["scale"] = scale_figures
        if options.part in ("all", "deploy"):
            (workdir / "deploy").mkdir()
            deploy_rows, deploy_figures = measure_deploy(
                QUICK_DEPLOY if options.quick else FULL_DEPLOY,
                workdir / "deploy",
                base_environment(),
            )
            rows += deploy_rows
            figures["deploy"] = deploy_figures
    finally:
        if options.keep:
            logger.info("scratch stores kept in %s", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = (
        header()
        + ("(quick run: timings mean little)\n" if options.quick else "")
        + format_table(rows)
    )
    sys.stdout.write(report)
    if options.json:
        options.json.write_text(
            json.dumps(
                {"plan": asdict(plan), "figures": figures, "table": report}, indent=2, default=str
            )
            + "\n"
        )


if __name__ == "__main__":
    main()

"""The scale-out figures of ``python -m bench``: batch scoring of iris rows by the local
engine beside its floor (``bench.score_floor``), by Spark (local mode and a standalone
cluster) and by REST serving; time per row as the input grows; and a gold tuning study
on Spark against the same study run sequentially.

Score times are the job's own wall time (``score_seconds``: read, check, predict,
write), which leaves out the process start and the Spark session's; those are figures of
their own. "As a user meets it" is one score process per engine on the same input (what
``mlflow run iris -e score`` runs), with its peak memory, beside the floor process.
"Warm" jobs are later jobs of one process (``bench.warm_score``), after a first job has
started Spark's Python workers and loaded the model. Every figure runs as its own
process against one store in which iris and gold_prices are trained and iris is
registered.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.load import run_load
from bench.measure import Row, ratio_row
from bench.score_floor import measure_floor, score_measured
from bench.startup import startup_rows
from deploy import processes

logger = logging.getLogger("bench.scaling")

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_FILE = 250_000
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
SMALL_GOLD_GRID = ("--models", "linear_regression,ridge", "--alpha-grid", "0.1,1000")


@dataclass(frozen=True)
class ScalePlan:
    """How big the scale-out figures are; ``--quick`` shrinks them to a smoke run."""

    score_rows: int
    scaling_rows: tuple[int, ...]
    rest_requests: int
    tune_trials: int
    gold_grid: tuple[str, ...]  # extra tune options; empty means the default 16-point grid
    refit_every: int
    # One process per engine, as a user meets it, beside the floor (bench.score_floor):
    # the local engine on every scaling size, Spark on these.
    user_spark_rows: tuple[int, ...]
    score_master: str = "local[*]"
    tune_master: str = "local[2]"
    cluster_cores: int = 2
    # The standalone-cluster figure; --quick leaves it out (tests/spark/test_cluster.py
    # runs the same jobs on such a cluster in CI).
    cluster: bool = True


FULL_SCALE = ScalePlan(
    score_rows=1_000_000,
    scaling_rows=(100_000, 1_000_000, 5_000_000),
    rest_requests=300,
    tune_trials=16,
    gold_grid=(),
    refit_every=21,
    user_spark_rows=(1_000_000, 5_000_000),
)
QUICK_SCALE = ScalePlan(
    score_rows=20_000,
    scaling_rows=(20_000,),
    rest_requests=10,
    tune_trials=2,
    gold_grid=SMALL_GOLD_GRID,
    refit_every=252,
    # The cold Spark score process is the full run's: Spark scores in --quick's warm jobs.
    user_spark_rows=(),
    cluster=False,
)


def iris_rows(rows: int, seed: int = 0) -> pd.DataFrame:
    """Plausible iris measurements (cm) around the three species' means."""
    rng = np.random.default_rng(seed)
    means = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    species = rng.integers(0, 3, rows)
    values = means[species] + rng.normal(0, 0.3, (rows, 4))
    return pd.DataFrame(values.clip(0.1, 10).round(2), columns=list(FEATURES))


def write_input(folder: Path, rows: int) -> Path:
    """``rows`` iris rows as Parquet files of at most 250,000 rows each."""
    folder.mkdir(parents=True)
    frame = iris_rows(rows)
    for number, start in enumerate(range(0, rows, ROWS_PER_FILE)):
        frame.iloc[start : start + ROWS_PER_FILE].to_parquet(folder / f"part-{number:03d}.parquet")
    return folder


def _run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[str, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout, seconds


def prepare(env: dict[str, str]) -> str:
    """Train and register iris; train gold_prices with its defaults. Returns the default
    gold model's backtest MASE as printed."""
    stdout, _ = _run(["-m", "iris_workflow", "train"], env, REPOSITORY_ROOT / "iris")
    model_uri = re.search(r"model_uri=(\S+)", stdout).group(1)  # type: ignore[union-attr]
    _run(
        ["-m", "iris_workflow", "register", "--model-uri", model_uri], env, REPOSITORY_ROOT / "iris"
    )
    stdout, _ = _run(["-m", "gold_workflow", "train"], env, REPOSITORY_ROOT / "gold_prices")
    return re.search(r"backtest_mase=(\S+)", stdout).group(1)  # type: ignore[union-attr]


def monitor_measured(env: dict[str, str], source: Path) -> tuple[float, float, str]:
    """One ``iris monitor`` process on ``source`` against ``iris@champion``: its wall
    time, its peak memory and the status it printed."""
    from bench.measure import run_measured

    measured = run_measured(
        [sys.executable, "-m", "iris_workflow", "monitor", "--input", str(source)],
        env,
        REPOSITORY_ROOT / "iris",
    ).check("iris monitor")
    status = re.search(r"status=(\w+)", measured.stdout).group(1)  # type: ignore[union-attr]
    peak_mib = sum(kib for kib, _ in measured.peak_kib.values()) / 1024
    return measured.seconds, peak_mib, status


@dataclass(frozen=True)
class WarmJobs:
    """Jobs scored in one process: the session's start and each job's own time."""

    session_seconds: float
    seconds: list[float]


def warm_jobs(
    env: dict[str, str], engine: str, master: str, inputs: list[Path], output_root: Path
) -> WarmJobs:
    """``python -m bench.warm_score``: the inputs scored one after another in one process."""
    import json

    stdout, _ = _run(
        [
            *("-m", "bench.warm_score", "--engine", engine, "--master", master),
            *("--output-root", str(output_root), *map(str, inputs)),
        ],
        env | {"PYTHONPATH": f"{REPOSITORY_ROOT}:{REPOSITORY_ROOT / 'iris'}"},
        REPOSITORY_ROOT,
    )
    report = json.loads(stdout.strip().splitlines()[-1])
    return WarmJobs(report["session_seconds"], [job["score_seconds"] for job in report["jobs"]])


def measure_scale(
    plan: ScalePlan, env: dict[str, str], workdir: Path
) -> tuple[list[Row], dict[str, object]]:
    """Every scale-out row of the report, and the raw figures."""
    from deploy.spark_cluster import standalone_cluster

    default_mase = prepare(env)
    rows: list[Row] = []
    figures: dict[str, object] = {}
    sizes = sorted({*plan.scaling_rows, plan.score_rows})
    inputs = {size: write_input(workdir / f"iris-{size}", size) for size in sizes}
    master = plan.score_master

    # As a user meets it: the floor, then one score process per engine, on each input.
    logger.info("the score floor and one score process per engine: %s rows", plan.scaling_rows)
    floor_rows, figures["user"] = measure_floor(
        env,
        {size: inputs[size] for size in plan.scaling_rows},
        workdir,
        master,
        plan.user_spark_rows,
    )
    rows += floor_rows
    startup, figures["startup"] = startup_rows(env)
    rows += startup

    # Monitoring a large batch against scoring it, one process each, as a user meets them.
    m = plan.score_rows
    logger.info("monitor and local score processes, %d rows", m)
    scored = score_measured(env, inputs[m], workdir / "monitor-pandas", "local", master)
    score_mib = scored.peak_mib
    monitor_seconds, monitor_mib, status = monitor_measured(env, inputs[m])
    monitor_ratio = monitor_seconds / scored.process_seconds
    rows.append(
        Row(
            figure=f"monitor process, {m:,} iris rows vs local score process",
            value=f"{monitor_seconds:.1f} s",
            ratio=f"{monitor_ratio:.2f}x",
            against=f"score {scored.process_seconds:.1f} s (peak {score_mib:,.0f} MiB); "
            f"monitor peak {monitor_mib:,.0f} MiB, status {status}",
            target="<= 3x",
            verdict="met" if monitor_ratio <= 3 else "MISSED",
        )
    )
    figures["monitor"] = {
        "rows": m,
        "monitor_process_seconds": monitor_seconds,
        "score_process_seconds": scored.process_seconds,
        "monitor_peak_mib": monitor_mib,
        "score_peak_mib": score_mib,
    }

    # Warm jobs: a second job in the same session, on each size.
    first = inputs[sizes[0]]
    order = [first, first, *(inputs[size] for size in sizes)]
    logger.info("warm jobs in one process per engine: %s rows", sizes)
    warm_pandas = warm_jobs(env, "pandas", master, order, workdir / "warm-pandas")
    warm_spark = warm_jobs(env, "spark", master, order, workdir / "warm-spark")
    cold, warm = warm_spark.seconds[0], warm_spark.seconds[1]
    rows += [
        Row(
            figure=f"Spark {master}: session start-up",
            value=f"{warm_spark.session_seconds:.1f} s",
            against="once per process",
        ),
        Row(
            figure=f"Spark {master}: Python workers' start, imports and model load",
            value=f"{max(cold - warm, 0.0):.1f} s",
            against=f"first job {cold:.1f} s less a warm one {warm:.1f} s, {sizes[0]:,} rows",
        ),
    ]
    warm_targets = {1_000_000: 3.0, 5_000_000: 2.0}
    per_row: list[tuple[int, float]] = []
    for index, size in enumerate(sizes):
        spark_seconds = warm_spark.seconds[index + 2]
        pandas_seconds = warm_pandas.seconds[index + 2]
        ratio = spark_seconds / pandas_seconds
        bound = warm_targets.get(size)
        rows.append(
            Row(
                figure=f"warm job, {size:,} rows: Spark {master} vs local engine",
                value=f"{spark_seconds:.2f} s",
                ratio=f"{ratio:.2f}x",
                against=f"local {pandas_seconds:.2f} s",
                target=f"<= {bound:g}x" if bound else "",
                verdict=("met" if ratio <= bound else "MISSED") if bound else "",
            )
        )
        per_row.append((size, spark_seconds / size * 1e6))
    smallest = per_row[0][1]
    for size, micros in per_row:
        baseline = size == per_row[0][0]
        rows.append(
            Row(
                figure=f"Spark {master} warm job, {size:,} rows: time per row",
                value=f"{micros:.2f} us/row",
                ratio=f"{micros / smallest:.2f}x",
                against=f"{per_row[0][0]:,} rows",
                target="" if baseline else "<= 1x",
                verdict="" if baseline else ("met" if micros <= smallest * 1.05 else "MISSED"),
            )
        )
    figures["scaling_us_per_row"] = dict(per_row)
    figures["warm"] = {
        "sizes": sizes,
        "pandas_seconds": warm_pandas.seconds[2:],
        "spark_seconds": warm_spark.seconds[2:],
        "session_seconds": warm_spark.session_seconds,
        "first_job_seconds": cold,
    }

    # The same warm job on a standalone cluster (a master and a worker of their own).
    local_m = warm_spark.seconds[sizes.index(m) + 2]
    if plan.cluster:
        logger.info("warm jobs on a standalone cluster, %d rows", m)
        with standalone_cluster(workdir / "cluster", cores=plan.cluster_cores) as cluster:
            on_cluster = warm_jobs(
                env, "spark", cluster, [first, first, inputs[m]], workdir / "warm-cluster"
            )
        rows.append(
            Row(
                figure=f"warm job, {m:,} rows: Spark standalone cluster "
                f"({plan.cluster_cores} cores) vs local[*]",
                value=f"{on_cluster.seconds[2]:.2f} s",
                ratio=f"{on_cluster.seconds[2] / local_m:.2f}x",
                against=f"local[*] {local_m:.2f} s; cluster session "
                f"{on_cluster.session_seconds:.1f} s",
            )
        )
        figures["cluster"] = {"rows": m, "seconds": on_cluster.seconds[2], "local_seconds": local_m}

    # Spark against REST serving, both warm.
    with processes.model_server(env, "models:/iris@champion", workdir) as (url, _pid):
        body = _payload(1000)
        run_load(url, body, min(5, plan.rest_requests), 1)  # warm-up
        served = run_load(url, body, plan.rest_requests, 4)
    rest_rows_per_second = served.per_second * 1000
    spark_rows_per_second = m / local_m
    figures["score"] = {
        "rows": m,
        "pandas_rows_per_second": m / warm_pandas.seconds[sizes.index(m) + 2],
        "spark_rows_per_second": spark_rows_per_second,
        "rest_rows_per_second": rest_rows_per_second,
    }
    rows += [
        Row(
            figure=f"batch score {m:,} iris rows: REST, 1,000-row requests, 4 clients",
            value=f"{rest_rows_per_second:,.0f} rows/s",
            against=f"{served.per_second:.1f} req/s, p50 {served.latency_ms(0.5):.0f} ms",
        ),
        Row(
            figure=f"batch score {m:,} iris rows: Spark {master} warm job vs REST",
            value=f"{spark_rows_per_second:,.0f} rows/s",
            ratio=f"{spark_rows_per_second / rest_rows_per_second:.2f}x",
            against="REST",
            target=">= 3x",
            verdict="met" if spark_rows_per_second >= 3 * rest_rows_per_second else "MISSED",
        ),
    ]
    rows += measure_tuning(plan, env, default_mase, figures)
    return rows, figures


def _payload(rows: int) -> bytes:
    from bench.load import iris_payload

    return iris_payload(rows)


def measure_tuning(
    plan: ScalePlan, env: dict[str, str], default_mase: str, figures: dict[str, object]
) -> list[Row]:
    """The gold study, sequential and on Spark, each in a study of its own."""
    common = [
        "-m",
        "gold_workflow",
        "tune",
        "--trials",
        str(plan.tune_trials),
        "--refit-every",
        str(plan.refit_every),
        *plan.gold_grid,
    ]
    gold = REPOSITORY_ROOT / "gold_prices"
    logger.info("gold tune, %d trials, sequential", plan.tune_trials)
    sequential, sequential_seconds = _run([*common, "--study-name", "bench-local"], env, gold)
    logger.info("gold tune, %d trials, Spark %s", plan.tune_trials, plan.tune_master)
    on_spark, spark_seconds = _run(
        [
            *common,
            "--study-name",
            "bench-spark",
            "--engine",
            "spark",
            "--spark-master",
            plan.tune_master,
        ],
        env,
        gold,
    )
    best = {
        name: re.search(r"backtest_mase=(\S+)", text).group(1)  # type: ignore[union-attr]
        for name, text in (("local", sequential), ("spark", on_spark))
    }
    figures["gold_tune"] = {
        "trials": plan.tune_trials,
        "sequential_seconds": sequential_seconds,
        "spark_seconds": spark_seconds,
        "best_mase": best,
        "default_mase": default_mase,
    }
    row = ratio_row(
        f"gold tune, {plan.tune_trials} trials: Spark {plan.tune_master}",
        spark_seconds,
        sequential_seconds,
        "sequential",
    )
    speedup = sequential_seconds / spark_seconds
    return [
        Row(
            figure=row.figure,
            value=row.value,
            ratio=f"{speedup:.2f}x faster",
            against=f"sequential {sequential_seconds:.1f} s",
        ),
        Row(
            figure=f"gold tune, {plan.tune_trials} trials: best backtest MASE",
            value=f"{best['spark']} (Spark), {best['local']} (sequential)",
            against=f"default model {default_mase}",
        ),
    ]

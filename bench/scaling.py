"""The scale-out figures of ``python -m bench``: batch scoring of iris rows by the pandas
engine, by Spark and by REST serving; Spark's time per row as the input grows; and a
gold tuning study on Spark against the same study run sequentially.

Scoring rates are rows divided by the score job's own wall time (``score_seconds``:
read, check, predict, write), which leaves out the process and Spark start-up that the
``against`` column reports. Every figure runs as its own process against one store in
which iris and gold_prices are trained and iris is registered.
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
    score_master: str = "local[*]"
    tune_master: str = "local[2]"


FULL_SCALE = ScalePlan(
    score_rows=1_000_000,
    scaling_rows=(100_000, 1_000_000, 5_000_000),
    rest_requests=300,
    tune_trials=16,
    gold_grid=(),
    refit_every=21,
)
QUICK_SCALE = ScalePlan(
    score_rows=20_000,
    scaling_rows=(20_000,),
    rest_requests=10,
    tune_trials=2,
    gold_grid=SMALL_GOLD_GRID,
    refit_every=252,
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


@dataclass(frozen=True)
class Scored:
    rows: int
    job_seconds: float  # the engine's own time (score_seconds)
    process_seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.job_seconds


def score(env: dict[str, str], source: Path, output: Path, engine: str, master: str) -> Scored:
    """One ``iris score`` process; the job's own time comes from its run's metrics."""
    import mlflow

    stdout, seconds = _run(
        [
            "-m",
            "iris_workflow",
            "score",
            "--input",
            str(source),
            "--output",
            str(output),
            "--engine",
            engine,
            "--spark-master",
            master,
        ],
        env,
        REPOSITORY_ROOT / "iris",
    )
    run_id = re.search(r"run_id=(\w+)", stdout).group(1)  # type: ignore[union-attr]
    metrics = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"]).get_run(run_id)
    rows = int(metrics.data.metrics["rows_scored"])
    return Scored(rows, metrics.data.metrics["score_seconds"], seconds)


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


def measure_scale(
    plan: ScalePlan, env: dict[str, str], workdir: Path
) -> tuple[list[Row], dict[str, object]]:
    """Every scale-out row of the report, and the raw figures."""
    default_mase = prepare(env)
    rows: list[Row] = []
    figures: dict[str, object] = {}
    n = plan.score_rows
    source = write_input(workdir / f"iris-{n}", n)
    logger.info("scoring %d iris rows with each engine", n)
    by_pandas = score(env, source, workdir / "out-pandas", "pandas", plan.score_master)
    by_spark = score(env, source, workdir / "out-spark", "spark", plan.score_master)
    with processes.model_server(env, "models:/iris@champion", workdir) as (url, _pid):
        body = _payload(1000)
        run_load(url, body, min(5, plan.rest_requests), 1)  # warm-up
        served = run_load(url, body, plan.rest_requests, 4)
    rest_rows_per_second = served.per_second * 1000
    figures["score"] = {
        "rows": n,
        "pandas_rows_per_second": by_pandas.rows_per_second,
        "spark_rows_per_second": by_spark.rows_per_second,
        "rest_rows_per_second": rest_rows_per_second,
    }
    rows += [
        Row(
            figure=f"batch score {n:,} iris rows: pandas engine",
            value=f"{by_pandas.rows_per_second:,.0f} rows/s",
            against=f"job {by_pandas.job_seconds:.1f} s, process {by_pandas.process_seconds:.1f} s",
        ),
        Row(
            figure=f"batch score {n:,} iris rows: REST, 1,000-row requests, 4 clients",
            value=f"{rest_rows_per_second:,.0f} rows/s",
            against=f"{served.per_second:.1f} req/s, p50 {served.latency_ms(0.5):.0f} ms",
        ),
        _rate_row(
            f"batch score {n:,} iris rows: Spark {plan.score_master} vs REST",
            by_spark,
            by_spark.rows_per_second / rest_rows_per_second,
            "REST",
            (">=", 50.0),
        ),
        _rate_row(
            f"batch score {n:,} iris rows: pandas engine vs Spark {plan.score_master}",
            by_spark,
            by_pandas.rows_per_second / by_spark.rows_per_second,
            "pandas rows/s per Spark rows/s",
            ("<=", 3.0),
        ),
    ]
    per_row: list[tuple[int, float]] = []
    for size in plan.scaling_rows:
        if size == n:
            scored = by_spark  # measured above
        else:
            logger.info("scoring %d iris rows on Spark", size)
            folder = write_input(workdir / f"iris-{size}", size)
            scored = score(env, folder, workdir / f"out-spark-{size}", "spark", plan.score_master)
        per_row.append((size, scored.job_seconds / size * 1e6))
    smallest = per_row[0][1]
    for size, micros in per_row:
        baseline = size == per_row[0][0]
        rows.append(
            Row(
                figure=f"Spark {plan.score_master} score, {size:,} rows: time per row",
                value=f"{micros:.2f} us/row",
                ratio=f"{micros / smallest:.2f}x",
                against=f"{per_row[0][0]:,} rows",
                target="" if baseline else "<= 1x",
                verdict="" if baseline else ("met" if micros <= smallest else "MISSED"),
            )
        )
    figures["scaling_us_per_row"] = dict(per_row)
    rows += measure_tuning(plan, env, default_mase, figures)
    return rows, figures


def _payload(rows: int) -> bytes:
    from bench.load import iris_payload

    return iris_payload(rows)


def _rate_row(
    figure: str, scored: Scored, ratio: float, against: str, target: tuple[str, float]
) -> Row:
    sign, bound = target
    met = ratio >= bound if sign == ">=" else ratio <= bound
    return Row(
        figure=figure,
        value=f"{scored.rows_per_second:,.0f} rows/s",
        ratio=f"{ratio:.2f}x",
        against=against,
        target=f"{sign} {bound:g}x",
        verdict="met" if met else "MISSED",
    )


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

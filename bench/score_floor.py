"""The floor of batch scoring, and ``score`` beside it with each engine, as users run it.

``python -m bench.score_floor MODEL_URI INPUT OUTPUT`` is the floor program: in one
process it loads the logged model through MLflow (``mlflow.sklearn.load_model``), reads
every row of ``INPUT`` with pyarrow, predicts with the fitted estimator's own
``predict``, and writes the rows with their predictions as one Parquet file. It prints
one JSON object: the seconds to load and the seconds of the job (read, predict, write).
It checks no row and records nothing: it is what the work costs with nothing around it.

``measure_floor`` runs that program, ``iris score`` with the ``local`` engine and
``iris score`` with ``spark``, each as its own process on the same input, and turns them
into rows of the report with the targets of issue 33: the local engine's
``score_seconds`` at most 3x the floor's job at 1,000,000 rows and 2x at 5,000,000, its
whole process at most 1.5x the floor's process, Spark within 3x of the local engine, and
the local engine's time per row flat or falling as the input grows.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Row

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
# Time per row may wobble by this much and still count as flat.
FLAT = 1.05
JOB_TARGETS = {1_000_000: 3.0, 5_000_000: 2.0}
PROCESS_TARGET = 1.5
SPARK_TARGET = 3.0


@dataclass(frozen=True)
class Scored:
    """One score process: rows scored, the engine's own time, the process's wall time and
    the peak memory of its processes, summed (for Spark: driver, JVM, Python workers)."""

    rows: int
    job_seconds: float  # score_seconds: read, check, predict, write
    process_seconds: float
    peak_mib: float = 0.0


def score_measured(
    env: dict[str, str], source: Path, output: Path, engine: str, master: str
) -> Scored:
    """One ``iris score`` process, as ``mlflow run iris -e score`` runs it."""
    import mlflow

    from bench.measure import run_measured

    measured = run_measured(
        [
            sys.executable,
            *("-m", "iris_workflow", "score", "--input", str(source), "--output", str(output)),
            *("--engine", engine, "--spark-master", master),
        ],
        env,
        REPOSITORY_ROOT / "iris",
    ).check(f"iris score with engine={engine}")
    run_id = re.search(r"run_id=(\w+)", measured.stdout).group(1)  # type: ignore[union-attr]
    metrics = mlflow.MlflowClient(tracking_uri=env["MLFLOW_TRACKING_URI"]).get_run(run_id)
    peak_mib = sum(kib for kib, _ in measured.peak_kib.values()) / 1024
    return Scored(
        int(metrics.data.metrics["rows_scored"]),
        metrics.data.metrics["score_seconds"],
        measured.seconds,
        peak_mib,
    )


def floor_measured(env: dict[str, str], model_uri: str, source: Path, output: Path) -> Scored:
    """One floor process (this module's program) on ``source``."""
    from bench.measure import run_measured

    measured = run_measured(
        [sys.executable, "-m", "bench.score_floor", model_uri, str(source), str(output)],
        env,
        REPOSITORY_ROOT,
    ).check("the score floor")
    report = json.loads(measured.stdout.strip().splitlines()[-1])
    peak_mib = sum(kib for kib, _ in measured.peak_kib.values()) / 1024
    return Scored(report["rows"], report["job_seconds"], measured.seconds, peak_mib)


def _verdict(value: float, bound: float) -> str:
    return "met" if value <= bound else "MISSED"


def measure_floor(
    env: dict[str, str],
    inputs: dict[int, Path],
    workdir: Path,
    master: str,
    spark_sizes: tuple[int, ...],
    model_uri: str = "models:/iris@champion",
) -> tuple[list[Row], dict[str, object]]:
    """The floor, the local engine and (at ``spark_sizes``) Spark on every input, each
    one process, side by side."""
    rows: list[Row] = []
    figures: dict[str, object] = {}
    per_row: list[tuple[int, float]] = []
    for size, source in sorted(inputs.items()):
        floor = floor_measured(env, model_uri, source, workdir / f"floor-{size}.parquet")
        local = score_measured(env, source, workdir / f"local-{size}", "local", master)
        job_ratio = local.job_seconds / floor.job_seconds
        process_ratio = local.process_seconds / floor.process_seconds
        bound = JOB_TARGETS.get(size)
        rows += [
            Row(
                figure=f"score floor, {size:,} iris rows (read, predict, write; 1 process)",
                value=f"{floor.job_seconds:.2f} s",
                against=f"process {floor.process_seconds:.1f} s, model load "
                f"{floor.process_seconds - floor.job_seconds:.1f} s of it",
                peak_rss=f"{floor.peak_mib:,.0f} MiB",
            ),
            Row(
                figure=f"score, {size:,} iris rows: local engine vs floor",
                value=f"{local.job_seconds:.2f} s",
                ratio=f"{job_ratio:.2f}x",
                against=f"floor {floor.job_seconds:.2f} s",
                target=f"<= {bound:g}x" if bound else "",
                verdict=_verdict(job_ratio, bound) if bound else "",
                peak_rss=f"{local.peak_mib:,.0f} MiB",
            ),
            Row(
                figure=f"score process, {size:,} iris rows: local engine vs floor process",
                value=f"{local.process_seconds:.1f} s",
                ratio=f"{process_ratio:.2f}x",
                against=f"floor process {floor.process_seconds:.1f} s",
                target=f"<= {PROCESS_TARGET:g}x",
                verdict=_verdict(process_ratio, PROCESS_TARGET),
            ),
        ]
        figure: dict[str, float] = {
            "floor_rows": floor.rows,
            "local_rows": local.rows,
            "floor_job_seconds": floor.job_seconds,
            "floor_process_seconds": floor.process_seconds,
            "local_score_seconds": local.job_seconds,
            "local_process_seconds": local.process_seconds,
            "local_peak_mib": local.peak_mib,
        }
        if size in spark_sizes:
            spark = score_measured(env, source, workdir / f"spark-{size}", "spark", master)
            spark_ratio = spark.job_seconds / local.job_seconds
            rows.append(
                Row(
                    figure=f"score, {size:,} iris rows: Spark {master} vs local engine",
                    value=f"{spark.job_seconds:.2f} s",
                    ratio=f"{spark_ratio:.2f}x",
                    against=f"local {local.job_seconds:.2f} s; process "
                    f"{spark.process_seconds:.1f} s (driver, JVM, Python workers: "
                    f"{spark.peak_mib:,.0f} MiB summed)",
                    target=f"<= {SPARK_TARGET:g}x",
                    verdict=_verdict(spark_ratio, SPARK_TARGET),
                )
            )
            figure |= {
                "spark_rows": spark.rows,
                "spark_score_seconds": spark.job_seconds,
                "spark_process_seconds": spark.process_seconds,
                "spark_peak_mib": spark.peak_mib,
            }
        figures[str(size)] = figure
        per_row.append((size, local.job_seconds / size * 1e6))
    first_size, first = per_row[0]
    for size, micros in per_row[1:]:
        rows.append(
            Row(
                figure=f"score, local engine, {size:,} rows: time per row",
                value=f"{micros:.2f} us/row",
                ratio=f"{micros / first:.2f}x",
                against=f"{first_size:,} rows: {first:.2f} us/row",
                target="<= 1x",
                verdict="met" if micros <= first * FLAT else "MISSED",
            )
        )
    figures["local_us_per_row"] = {str(size): micros for size, micros in per_row}
    return rows, figures


def main(argv: list[str] | None = None) -> None:
    """The floor program (see the module)."""
    started = time.perf_counter()
    model_uri, source, output = argv if argv is not None else sys.argv[1:]
    import mlflow.sklearn
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    model = mlflow.sklearn.load_model(model_uri)
    loaded = time.perf_counter()
    table = ds.dataset(source, format="parquet").to_table()
    predicted = model.predict(table.select(list(FEATURES)).to_pandas())
    out = table.append_column("predicted_species", pa.array(predicted.astype(str)))
    pq.write_table(out, output)
    done = time.perf_counter()
    report = {
        "rows": table.num_rows,
        "load_seconds": loaded - started,
        "job_seconds": done - loaded,
    }
    print(json.dumps(report))  # noqa: T201 - the program's one output line


if __name__ == "__main__":
    main()

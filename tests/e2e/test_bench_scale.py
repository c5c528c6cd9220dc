"""End-to-end: the benchmark's reduced scale-out run (``python -m bench --quick --part
scale``) works: the score floor and a local score process beside it, with their peak
memory, a step's fixed cost phase by phase, warm jobs in one
session on both engines with the session's and the workers' start-up apart, REST
serving, Spark's time per row, and the gold study sequential and on Spark, each measured
by real processes and reported (the standalone-cluster figure is left out by --quick).
Timings are printed, never asserted; what is asserted is that every engine saw the same
rows and that the study on Spark chose what the sequential one chose."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, Store, run_cli

pytestmark = pytest.mark.e2e


def test_the_quick_scale_benchmark_measures_and_reports_every_figure(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    report = tmp_path / "bench.json"
    result = run_cli(
        [sys.executable, "-m", "bench", "--quick", "--part", "scale", "--json", str(report)],
        store,
        REPO_ROOT,
        timeout=900,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    table = result.stdout
    assert table.splitlines()[0].startswith("machine: ")
    scale = json.loads(report.read_text())["figures"]["scale"]
    # The same 20,000 rows through the floor and every engine, each reported.
    user = scale["user"]["20000"]
    assert user["floor_rows"] == user["local_rows"] == 20_000
    assert "spark_rows" not in user  # --quick scores with Spark in its warm jobs only
    assert scale["score"]["rows"] == 20_000
    assert "score floor, 20,000 iris rows" in table
    assert "score process, 20,000 iris rows: local engine vs floor process" in table
    # What a step pays before its first row, phase by phase, measured in its own process.
    assert "step fixed cost, in all (before the first row)" in table
    assert scale["startup"]["import mlflow"] > 0
    assert scale["startup"]["process_seconds"] > sum(
        seconds for name, seconds in scale["startup"].items() if name != "process_seconds"
    )
    assert set(scale["scaling_us_per_row"]) == {"20000"}
    assert len(scale["warm"]["spark_seconds"]) == len(scale["warm"]["pandas_seconds"]) == 1
    assert "cluster" not in scale  # --quick leaves the cluster to tests/spark/test_cluster.py
    # monitor and a local score of the same rows, each a whole process.
    assert scale["monitor"]["rows"] == 20_000
    assert scale["monitor"]["monitor_process_seconds"] > 0
    assert "monitor process, 20,000 iris rows vs local score process" in table
    # The gold study on Spark chooses what the sequential study chooses.
    assert scale["gold_tune"]["trials"] == 2
    best = scale["gold_tune"]["best_mase"]
    assert best["spark"] == best["local"], best
    assert f"{best['spark']} (Spark), {best['local']} (sequential)" in table

"""End-to-end: the benchmark's reduced scale-out run (``python -m bench --quick --part
scale``) works: one score process per engine with its peak memory, warm jobs in one
session on both engines with the session's and the workers' start-up apart, REST
serving, Spark's time per row, and the gold study sequential and on Spark, each measured
by real processes and reported (the standalone-cluster figure is left out by --quick).
Timings are printed, never asserted."""

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
    for fragment in (
        "score process, 20,000 iris rows: pandas engine",
        "score process, 20,000 iris rows: Spark local[*] vs pandas engine",
        "Spark local[*]: session start-up",
        "Spark local[*]: Python workers' start, imports and model load",
        "warm job, 20,000 rows: Spark local[*] vs pandas engine",
        "batch score 20,000 iris rows: REST, 1,000-row requests, 4 clients",
        "batch score 20,000 iris rows: Spark local[*] warm job vs REST",
        "Spark local[*] warm job, 20,000 rows: time per row",
        "gold tune, 2 trials: Spark local[2]",
        "gold tune, 2 trials: best backtest MASE",
    ):
        assert fragment in table, table
    scale = json.loads(report.read_text())["figures"]["scale"]
    assert scale["score"]["rows"] == 20_000
    assert scale["score"]["pandas_rows_per_second"] > 0
    assert scale["score"]["spark_rows_per_second"] > 0
    assert scale["score"]["rest_rows_per_second"] > 0
    assert set(scale["scaling_us_per_row"]) == {"20000"}
    assert scale["user"]["spark_peak_mib"] > scale["user"]["pandas_peak_mib"] > 0
    assert len(scale["warm"]["spark_seconds"]) == len(scale["warm"]["pandas_seconds"]) == 1
    assert "cluster" not in scale  # --quick leaves the cluster to tests/spark/test_cluster.py
    assert scale["gold_tune"]["trials"] == 2
    assert scale["gold_tune"]["spark_seconds"] > 0

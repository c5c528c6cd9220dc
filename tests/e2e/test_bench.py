"""End-to-end: the benchmark's reduced lifecycle run (``python -m bench --quick --part
lifecycle``) works: every figure is measured by real processes (orchestrator,
``mlflow.run`` steps, ``tune``, ``mlflow models serve``) and reported. Timings are
printed, never asserted: what is asserted is what a user reads the bench for besides
them (the cache reused every step, the memory target judged, the load bounded). The
scale-out part has its own test file, so the two run on both workers at once."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, Store, run_cli

pytestmark = pytest.mark.e2e

FIGURES = ("floor", "baseline", "cold", "warm", "grid_floor", "tune", "tutorial", "tune_large")


def test_the_quick_benchmark_measures_and_reports_every_figure(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    report = tmp_path / "bench.json"
    result = run_cli(
        [sys.executable, "-m", "bench", "--quick", "--part", "lifecycle", "--json", str(report)],
        store,
        REPO_ROOT,
        timeout=900,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    table = result.stdout
    assert table.splitlines()[0].startswith("machine: ")
    figures = json.loads(report.read_text())["figures"]
    # Every figure measured is reported, each as a table row, and nothing else is.
    assert set(FIGURES) <= set(figures)
    assert "scale" not in figures
    assert len([line for line in table.splitlines() if line.strip()]) >= len(FIGURES) + 2
    # What a user reads the bench for, beyond its timings: the warm orchestrator run
    # reused every step of the cold one, the memory target is judged, and the serving
    # load was exactly the bounded number of requests, all answered.
    assert "warm orchestrator (3/3 steps cached)" in table, table
    assert re.search(r"peak RSS of any step process .* (met|MISSED)\s*$", table, re.M), table
    for size in (1, 1000):
        serving = figures[f"serve_{size}_rows"]
        assert serving["requests"] == 40
        assert serving["p50_ms"] <= serving["p99_ms"]

"""End-to-end: the benchmark's reduced lifecycle run (``python -m bench --quick --part
lifecycle``) works: every figure is measured by real processes (orchestrator,
``mlflow.run`` steps, ``tune``, ``mlflow models serve``) and reported. Timings are
printed, never asserted. The scale-out part has its own test file, so the two run on
both workers at once."""

from __future__ import annotations

import json
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
    for fragment in (
        "in-process floor (3 steps, 1 process)",
        "cold orchestrator",
        "step-per-process baseline",
        "warm orchestrator (3/3 steps cached)",
        "grid floor: compute + 1 log_batch per config (4)",
        "iris tune, 4 configs",
        "tutorial-style grid, 4 configs",
        "iris tune, 40 configs",
        "tune cost per extra config (4 -> 40)",
        "peak RSS of any step process (cold run: iris_workflow ",
        "serve iris@champion, 1-row payload (40 requests, 2 clients)",
        "serve iris@champion, 100-row payload (40 requests, 2 clients)",
    ):
        assert fragment in table, table
    assert table.splitlines()[0].startswith("machine: ")
    figures = json.loads(report.read_text())["figures"]
    for name in FIGURES:
        assert figures[name]["seconds"] > 0
        assert figures[name]["peak_mib"] > 0
    assert "scale" not in figures
    for size in (1, 100):
        serving = figures[f"serve_{size}_rows"]
        assert serving["requests"] == 40
        assert 0 < serving["p50_ms"] <= serving["p99_ms"]

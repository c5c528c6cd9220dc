"""End-to-end: the benchmark's reduced deployment run (``python -m bench --quick --part
deploy``) works: a tracking server with webhooks, iris versions registered with their
golden sets, ``python -m deploy.serve`` behind HAProxy, promotions by poll and by
webhook, and a rollback, all under load. Timings are printed, never asserted; what is
asserted is what the run proves besides them: no request failed, and the webhook was
what started its promotion."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, Store, run_cli

pytestmark = pytest.mark.e2e


def test_the_quick_deploy_benchmark_measures_and_reports_every_figure(
    store: Store, tmp_path: Path
) -> None:
    report = tmp_path / "bench.json"
    result = run_cli(
        [sys.executable, "-m", "bench", "--quick", "--part", "deploy", "--json", str(report)],
        store,
        REPO_ROOT,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    figures = json.loads(report.read_text())["figures"]["deploy"]
    assert set(figures) == {
        "proxy",
        "promotion_by_poll",
        "promotion_by_webhook",
        "rollback",
        "load",
    }
    assert figures["promotion_by_poll"]["seen_by_webhook"] == 0
    assert figures["promotion_by_webhook"]["seen_by_webhook"] == 1
    assert figures["load"]["failed"] == 0, figures
    assert figures["load"]["requests"] > 0
    proxy = figures["proxy"]
    assert proxy["direct_per_second"] > 0
    assert proxy["proxied_per_second"] > 0
    table = result.stdout
    assert table.count("deploy: ") == 4, table

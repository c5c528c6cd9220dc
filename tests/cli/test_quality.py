"""CLI test: ``python -m bench.quality`` prints the figures the training runs recorded."""

from __future__ import annotations

import re

import pytest

from bench import quality
from tests.helpers import Store, client_for


def test_the_quality_table_quotes_what_the_training_runs_recorded(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    quality.main(["--projects", "gold_prices,cities", "--tracking-uri", store.uri])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:2] == ["| project | figure | value |", "|---|---|---|"]
    runs = client_for(store).search_runs(
        [e.experiment_id for e in client_for(store).search_experiments()]
    )
    by_project = {run.data.tags["lifecycle.project"]: run for run in runs}
    gold = by_project["gold_prices"].data
    mase = re.search(r"\| gold_prices \| backtest MASE over ([\d,]+) .*\| ([\d.]+) \|", out)
    assert mase, out
    assert int(mase.group(1).replace(",", "")) == gold.metrics["backtest_rows"]
    assert float(mase.group(2)) == pytest.approx(gold.metrics["backtest_mase"], abs=1e-4)
    p_value = re.search(r"against naive: one-sided p for better \| ([\d.e-]+) \|", out)
    assert float(p_value.group(1)) == pytest.approx(gold.metrics["dm_vs_naive_p_value"], rel=1e-3)
    cities = by_project["cities"].data
    relevance = re.search(r"\| cities \| relevance at k.*\| ([\d.]+) \|", out)
    assert float(relevance.group(1)) == pytest.approx(
        cities.metrics["eval_relevance_at_k"], abs=1e-4
    )


def test_an_unknown_project_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        quality.main(["--projects", "iris,wine"])
    assert done.value.code == 2
    assert "unknown project(s) wine" in capsys.readouterr().err

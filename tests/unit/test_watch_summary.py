"""Unit tests of the orchestrator's monitor summary: the retrain policy and the table."""

from __future__ import annotations

import pytest

from orchestrator.watch_summary import (
    WatchResult,
    action_text,
    format_watch_summary,
    should_retrain,
)


@pytest.mark.parametrize(
    ("policy", "status", "retrains"),
    [
        ("never", "degraded", False),
        ("degraded", "degraded", True),
        ("degraded", "drift", False),
        ("drift", "drift", True),
        ("drift", "degraded", True),
        ("drift", "ok", False),
        ("drift", "unjudged", False),  # no evidence is never a reason to retrain
        ("drift", None, False),
    ],
)
def test_each_policy_retrains_on_its_statuses(policy: str, status: str, retrains: bool) -> None:
    assert should_retrain(policy, status) is retrains


def test_the_table_names_each_status_and_what_was_done() -> None:
    kept = WatchResult(
        project="iris",
        model_uri="models:/iris/1",
        status="degraded",
        drifted_features="petal_length,petal_width",
        live_metric="live_accuracy",
        live_value=0.7733,
        live_p_value=0.01,
        retrained=True,
        retrain_version="2",
        retrain_decision="kept",
        retrain_p_value=1.0,
        retrain_compared_on="84 shared unseen rows (ids digest 0a1b2c3d4e5f)",
        champion_after="1",
        reason="live accuracy 0.7733",
    )
    quiet = WatchResult(
        project="cities", model_uri="models:/cities/1", status="drift", drifted_features="a,b,c,d,e"
    )
    failed = WatchResult(project="gold_prices", failed_step="monitor", error="no champion")
    table = format_watch_summary([kept, quiet, failed], "degraded")
    assert "retrained: version 2 kept p=1; champion 1" in table
    assert "live_accuracy=0.7733 (p=0.01)" in table
    assert "none (retrain=degraded; only drift)" in table
    assert "a, b, c +2 more" in table
    assert "petal_length, petal_width " in table
    assert "gold_prices: monitor failed: no champion" in table
    assert action_text(quiet, "never") == "none (retrain=never)"
    assert action_text(WatchResult(project="x", status="ok"), "drift") == "none"
    assert (
        "iris: retrained version 2 compared with the champion on 84 shared unseen rows "
        "(ids digest 0a1b2c3d4e5f): kept" in table
    )


def test_a_retrain_served_from_the_step_cache_says_nothing_changed() -> None:
    reused = WatchResult(
        project="iris",
        status="degraded",
        retrained=True,
        retrain_version="1",
        retrain_decision="first",
        retrain_reused=True,
        champion_after="1",
    )
    table = format_watch_summary([reused], "degraded")
    assert "retrain reused from the step cache: nothing new decided; champion 1" in table
    assert "retrained: version 1 first" not in table
    assert "nothing changed now" in table

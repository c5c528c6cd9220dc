"""Unit tests of the monitor step's pure parts: its parameters, the verdicts and the
status they make, when the step exits non-zero, what it records, the two-sample tests
of live performance, and each project's view of a batch."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom

from lifecycle import significance
from lifecycle.errors import ParameterError
from lifecycle.monitor import drift
from lifecycle.monitor.params import MonitorParams
from lifecycle.monitor.verdicts import (
    DEGRADED,
    DRIFT,
    NO_TRUTH,
    NONE,
    OK,
    UNJUDGED,
    LiveCheck,
    Verdicts,
    alarm,
    metrics_of,
    report_html,
    report_json,
    status_of,
)


def params(**changes: object) -> MonitorParams:
    return MonitorParams(input="batch.csv", model_uri="models:/iris@champion", **changes)


def test_the_parameters_are_checked_before_any_work() -> None:
    with pytest.raises(ParameterError, match="needs truth"):
        params(fail_on="degraded")
    assert params(fail_on="degraded", truth="labels.csv").fail_on == "degraded"
    with pytest.raises(ParameterError) as refused:
        params(alpha=0.0)
    assert refused.value.name == "monitor_alpha"
    with pytest.raises(ParameterError):
        params(batch_date="06/12/2026")
    for day, why in (
        ("1900-01-01", "must lie between 1970-01-01 and"),
        ("2999-01-01", "must lie between 1970-01-01 and"),
        ("2025-02-30", "is not a calendar day"),
    ):
        with pytest.raises(ParameterError, match=why):
            params(batch_date=day)
    assert params(batch_date="2025-06-05").batch_date == "2025-06-05"
    with pytest.raises(ParameterError):
        params(fail_on="always")
    with pytest.raises(ParameterError):
        params(drift_share=1.5)


@pytest.mark.parametrize(
    ("drift_verdict", "performance", "status"),
    [
        (NONE, NO_TRUTH, OK),
        (NONE, OK, OK),
        (DRIFT, NO_TRUTH, DRIFT),
        (DRIFT, OK, DRIFT),
        (NONE, DEGRADED, DEGRADED),
        (DRIFT, DEGRADED, DEGRADED),
        (UNJUDGED, NO_TRUTH, UNJUDGED),
        (UNJUDGED, UNJUDGED, UNJUDGED),
        (UNJUDGED, OK, OK),
        (UNJUDGED, DEGRADED, DEGRADED),
        (NONE, UNJUDGED, OK),
    ],
)
def test_the_status_is_the_worse_verdict(drift_verdict: str, performance: str, status: str) -> None:
    assert status_of(drift_verdict, performance) == status


def verdicts(drift_verdict: str, performance: str, live: LiveCheck | None = None) -> Verdicts:
    return Verdicts(
        drift_verdict,
        performance,
        None,
        "no profile" if drift_verdict == UNJUDGED else "",
        live,
        "no target known yet" if performance == UNJUDGED else "",
    )


@pytest.mark.parametrize(
    ("fail_on", "drift_verdict", "performance", "fails"),
    [
        ("none", DRIFT, DEGRADED, False),
        ("drift", NONE, OK, False),
        ("drift", DRIFT, NO_TRUTH, True),
        ("drift", NONE, DEGRADED, True),
        ("drift", UNJUDGED, NO_TRUTH, True),  # drift cannot be ruled out: fail closed
        ("degraded", DRIFT, OK, False),
        ("degraded", NONE, DEGRADED, True),
        ("degraded", NONE, UNJUDGED, True),  # performance cannot be ruled out
        ("degraded", UNJUDGED, OK, False),
    ],
)
def test_the_step_fails_when_the_status_reaches_fail_on_or_cannot_be_judged(
    fail_on: str, drift_verdict: str, performance: str, fails: bool
) -> None:
    reason = alarm(fail_on, verdicts(drift_verdict, performance))
    assert (reason is not None) == fails
    if drift_verdict == UNJUDGED and fails:
        assert "cannot be judged" in str(reason)
        assert "fails closed" in str(reason)


def shifted_report() -> drift.DriftReport:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    profile = drift.build_profile(reference, numeric=("a", "b"))
    batch = pd.DataFrame({"a": rng.normal(3.0, 1.0, 200), "b": rng.normal(size=200)})
    return drift.drift_report(profile, batch)


def test_the_metrics_name_each_feature_and_the_live_check() -> None:
    live = LiveCheck("live_accuracy", 0.8, 0.95, 40, "t", 2.0, 0.01, True, "worse", {"x": 1.0})
    checked = Verdicts(DRIFT, DEGRADED, shifted_report(), "", live, "")
    metrics = metrics_of(checked)
    assert metrics["drift/a/p_value"] < 0.05 <= metrics["drift/b/p_value"]
    assert metrics["drift/a/statistic"] > 0.5
    assert metrics["drift/a/adjusted_p_value"] >= metrics["drift/a/p_value"]
    assert metrics["drift/a/effect"] > 1
    assert metrics["drift_share"] == 0.5
    assert metrics["drifted_features"] == 1.0
    assert metrics["live_accuracy"] == 0.8
    assert metrics["live_p_value"] == 0.01
    assert metrics["x"] == 1.0
    assert all(math.isfinite(value) for value in metrics.values())


def test_the_report_says_the_status_each_test_and_why() -> None:
    checked = Verdicts(DRIFT, NO_TRUTH, shifted_report(), "", None, "")
    header = {"project": "demo", "model_uri": "models:/demo/1"}
    data = json.loads(report_json(checked, header))
    assert data["status"] == DRIFT
    assert data["drift_report"]["drifted_features"] == ["a"]
    assert [f["test"] for f in data["drift_report"]["features"]] == [drift.KOLMOGOROV_SMIRNOV] * 2
    assert "1 of 2 features drifted" in data["reason"]
    page = report_html(checked, header)
    assert "<h1>Status: drift</h1>" in page
    assert page.count("class='drifted'") == 1
    unjudged = Verdicts(UNJUDGED, NO_TRUTH, None, "no profile", None, "")
    assert "cannot be judged: no profile" in report_html(unjudged, header)


def test_fishers_exact_test_is_the_hypergeometric_tail() -> None:
    # 6 of 20 live answers wrong against 2 of 40 measured: P(X >= 6) for X the live
    # errors among 8 drawn from 60 rows of which 20 are live.
    test = significance.fisher_exact_worse(6, 20, 2, 40)
    assert test.p_value == pytest.approx(hypergeom.sf(5, 60, 20, 8))
    assert test.statistic == pytest.approx((6 / 14) / (2 / 38))
    assert significance.fisher_exact_worse(0, 20, 2, 40).p_value == 1.0
    with pytest.raises(ValueError, match="5 wrong answers out of 3 rows"):
        significance.fisher_exact_worse(5, 3, 0, 10)


def test_mann_whitney_counts_the_pairs_where_live_is_larger() -> None:
    test = significance.mann_whitney_worse(np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0, 3.0]))
    assert test.statistic == 8.5  # 8 pairs larger, one tie counted half
    assert test.p_value < 0.1
    same = significance.mann_whitney_worse(np.arange(10.0), np.arange(10.0))
    assert same.p_value > 0.4


def test_iris_live_accuracy_against_the_held_out_accuracy() -> None:
    from iris_workflow import core

    measured = np.array([False] * 43 + [True] * 2)
    assert not core.live_check(np.array([False] * 30), measured, 0.05).degraded
    worse = core.live_check(np.array([False] * 20 + [True] * 10), measured, 0.05)
    assert worse.degraded
    assert worse.value == pytest.approx(2 / 3)
    assert worse.reference == pytest.approx(43 / 45)
    assert worse.p_value == pytest.approx(significance.fisher_exact_worse(10, 30, 2, 45).p_value)


def test_iris_monitors_its_four_measurements() -> None:
    from iris_workflow import core
    from lifecycle.errors import DataError

    batch = pd.DataFrame(
        {name: ["1.0", "x"] for name in core.FEATURES} | {"predicted_species": ["a", "b"]}
    )
    features = core.monitored_features(batch)
    assert list(features.columns) == list(core.FEATURES)
    assert features.iloc[1].isna().all()
    with pytest.raises(DataError, match="petal_width"):
        core.monitored_features(batch.drop(columns=["petal_width"]))


def test_cities_requests_cannot_be_judged_against_a_city_table() -> None:
    from cities_workflow.monitoring import monitored_features
    from lifecycle.monitor.verdicts import UnjudgedError

    requests = pd.DataFrame({"month": [7], "preferred_temp": [25.0], "trip_days": [5]})
    with pytest.raises(UnjudgedError, match="traveller requests"):
        monitored_features(requests)

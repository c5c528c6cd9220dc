"""Unit tests of lifecycle.drift: profiles round-trip, each test against known cases,
and the batch verdict."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifecycle.monitor import drift


def frame(rows: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "length": rng.normal(5.0, 1.0, rows),
            "width": rng.normal(3.0, 0.5, rows),
            "region": rng.choice(["europe", "asia", "africa"], rows, p=[0.5, 0.3, 0.2]),
        }
    )


def test_a_profile_round_trips_through_json_and_summarises_each_feature() -> None:
    data = frame()
    profile = drift.build_profile(data, numeric=("length", "width"), categorical=("region",))
    again = drift.Profile.from_json(profile.to_json())
    assert again == profile
    assert profile.rows == 500
    assert profile.digest == drift.digest(data)
    length = profile.feature("length")
    assert length.kind == drift.NUMERIC
    assert length.summary["mean"] == pytest.approx(data["length"].mean())
    assert length.summary["q50"] == pytest.approx(data["length"].median())
    assert len(length.sample) == 500
    assert sum(profile.feature("region").categories.values()) == 500


def test_a_large_table_keeps_a_seeded_sample() -> None:
    big = frame(rows=10_000)
    one = drift.build_profile(big, numeric=("length",), seed=3)
    two = drift.build_profile(big, numeric=("length",), seed=3)
    assert len(one.feature("length").sample) == drift.SAMPLE_SIZE
    assert one == two


def test_ks_of_disjoint_samples_has_statistic_one() -> None:
    reference = drift.build_profile(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), numeric=("x",))
    result = drift.numeric_drift(reference.feature("x"), np.array([4.0, 5.0, 6.0]), 0.05)
    assert result.statistic == 1.0
    # Exact two-sided p for m = n = 3 fully separated: 2 / C(6, 3) = 0.1
    assert result.p_value == pytest.approx(0.1)
    assert not result.drifted  # three rows cannot show it at 5 %


def test_chi_square_is_the_test_of_homogeneity_of_both_samples() -> None:
    reference = drift.FeatureProfile(
        "c", drift.CATEGORICAL, 300, 0, categories={"a": 100, "b": 100, "c": 100}
    )
    batch = pd.Series(["a"] * 10 + ["b"] * 20 + ["c"] * 30)
    result = drift.categorical_drift(reference, batch, 0.05)
    # Pooled shares 110/360, 120/360, 130/360; the statistic sums over both rows.
    table = np.array([[100, 100, 100], [10, 20, 30]], dtype=float)
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(math.exp(-statistic / 2))  # chi-square, 2 df
    assert result.effect_name == drift.JENSEN_SHANNON
    assert 0 < result.effect < 1


def test_a_category_the_reference_never_saw_is_evidence() -> None:
    reference = drift.FeatureProfile("c", drift.CATEGORICAL, 100, 0, categories={"a": 50, "b": 50})
    result = drift.categorical_drift(reference, pd.Series(["a", "b", "z"] * 20), 0.05)
    assert result.drifted
    assert "never saw: z" in result.note


def test_a_batch_from_the_same_distribution_does_not_drift_and_a_shifted_one_does() -> None:
    profile = drift.build_profile(frame(), numeric=("length", "width"), categorical=("region",))
    same = drift.drift_report(profile, frame(rows=300, seed=1))
    assert not same.drifted
    shifted = frame(rows=300, seed=2).assign(length=lambda f: f["length"] + 1.0)
    report = drift.drift_report(profile, shifted.assign(width=lambda f: f["width"] * 1.5))
    assert set(report.drifted_features) == {"length", "width"}
    assert report.share == pytest.approx(2 / 3)
    assert report.drifted
    for feature in report.features:
        assert feature.adjusted_p_value >= feature.p_value
        assert feature.effect_name in (drift.WASSERSTEIN, drift.JENSEN_SHANNON)


def test_holm_adjusts_step_down_and_stays_monotone() -> None:
    adjusted = drift.holm([0.01, 0.04, 0.03, 0.5])
    # Sorted 0.01, 0.03, 0.04, 0.5 times 4, 3, 2, 1, each at least the one before.
    assert adjusted == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert drift.holm([]) == []
    assert drift.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_on_simulated_nulls_drift_is_raised_at_most_at_alpha() -> None:
    """Ten independent features, batches from the reference's own population: without a
    correction some feature fails at 5 % in about 40 % of batches; with Holm's the batch
    drifts in at most 5 %: a one-sided binomial test of "more than 5 %" does not reject
    it (seeded, 300 batches)."""
    from scipy.stats import binomtest

    rng = np.random.default_rng(7)
    columns = [f"x{i}" for i in range(10)]
    raised = uncorrected = 0
    batches = 300
    for _ in range(batches):
        reference = pd.DataFrame(rng.normal(size=(300, 10)), columns=columns)
        profile = drift.build_profile(reference, numeric=tuple(columns))
        batch = pd.DataFrame(rng.normal(size=(100, 10)), columns=columns)
        report = drift.drift_report(profile, batch, alpha=0.05)
        raised += report.drifted
        uncorrected += any(f.p_value < 0.05 for f in report.features)
    assert binomtest(raised, batches, 0.05, alternative="greater").pvalue > 0.01, raised
    assert binomtest(uncorrected, batches, 0.05, alternative="greater").pvalue < 1e-6


def test_one_strongly_shifted_feature_raises_drift_and_the_share_rule_would_not() -> None:
    rng = np.random.default_rng(3)
    columns = ["a", "b", "c", "d"]
    reference = pd.DataFrame(rng.normal(size=(500, 4)), columns=columns)
    profile = drift.build_profile(reference, numeric=tuple(columns))
    batch = pd.DataFrame(rng.normal(size=(200, 4)), columns=columns).assign(a=lambda f: f.a + 1.1)
    report = drift.drift_report(profile, batch)
    assert report.drifted
    assert report.drifted_features == ("a",)
    assert not drift.drift_report(profile, batch, drift_share=0.5).drifted


def test_a_negligible_difference_on_a_huge_batch_is_not_drift() -> None:
    """A million rows 0.03 standard deviations off: significant, below the floor."""
    rng = np.random.default_rng(5)
    profile = drift.build_profile(pd.DataFrame({"x": rng.normal(size=2000)}), numeric=("x",))
    batch = pd.DataFrame({"x": rng.normal(0.03, 1.0, 1_000_000)})
    report = drift.drift_report(profile, batch)
    (feature,) = report.features
    assert feature.effect < drift.EFFECT_FLOOR
    assert not report.drifted
    far = drift.drift_report(profile, batch.assign(x=lambda f: f.x + 0.5))
    assert far.drifted


def test_a_batch_with_no_value_of_any_feature_tests_nothing() -> None:
    profile = drift.build_profile(frame(), numeric=("length",))
    report = drift.drift_report(profile, pd.DataFrame({"length": [math.nan] * 5}))
    assert report.tested == 0
    assert not report.drifted
    assert "measured for batches of" in report.small


def test_a_batch_without_a_profiled_column_is_refused() -> None:
    profile = drift.build_profile(frame(), numeric=("length",))
    with pytest.raises(drift.ProfileError, match="lacks profiled column"):
        drift.drift_report(profile, pd.DataFrame({"width": [1.0]}))


def test_an_unreadable_profile_says_so() -> None:
    with pytest.raises(drift.ProfileError, match="cannot be read"):
        drift.Profile.from_json('{"rows": 3}')

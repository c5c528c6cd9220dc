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


def test_chi_square_matches_the_hand_computed_statistic() -> None:
    reference = drift.FeatureProfile(
        "c", drift.CATEGORICAL, 300, 0, categories={"a": 100, "b": 100, "c": 100}
    )
    batch = pd.Series(["a"] * 10 + ["b"] * 20 + ["c"] * 30)
    result = drift.categorical_drift(reference, batch, 0.05)
    # With half a count added each side: observed 10.5, 20.5, 30.5; expected 20.5 each.
    statistic = (10**2 + 0 + 10**2) / 20.5
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(math.exp(-statistic / 2))  # chi-square, 2 df


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


def test_a_batch_without_a_profiled_column_is_refused() -> None:
    profile = drift.build_profile(frame(), numeric=("length",))
    with pytest.raises(drift.ProfileError, match="lacks profiled column"):
        drift.drift_report(profile, pd.DataFrame({"width": [1.0]}))


def test_an_unreadable_profile_says_so() -> None:
    with pytest.raises(drift.ProfileError, match="cannot be read"):
        drift.Profile.from_json('{"rows": 3}')

"""Unit tests of the pure cities core: JSON parsing, table validation, features and
PCA, ranking on a tiny handmade table where the right answer is obvious, the hard
constraint guarantees, request validation, the evaluation metrics and the gate."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from cities_workflow import core


def temperatures(base: float, swing: float = 0.0) -> str:
    """Monthly JSON: ``base`` in July, ``base - swing`` in January (northern seasons)."""
    months = {}
    for month in core.MONTHS:
        average = base - swing * abs(month - 7) / 6
        months[str(month)] = {"avg": average, "max": average + 4, "min": average - 4}
    return json.dumps(months)


def raw_city(name: str, **overrides) -> dict[str, object]:
    row = {
        "id": f"id-{name}",
        "city": name,
        "country": "Testland",
        "region": "europe",
        "short_description": "",
        "latitude": "45.0",
        "longitude": "9.0",
        "avg_temp_monthly": temperatures(20.0),
        "ideal_durations": '["Short trip","One week"]',
        "budget_level": "Mid-range",
        **{activity: "3" for activity in core.ACTIVITIES},
    }
    row.update({key: str(value) for key, value in overrides.items()})
    return row


def tiny_table() -> pd.DataFrame:
    """Five cities whose best match for each simple request is obvious."""
    rows = [
        raw_city(
            "Beachton",
            beaches=5,
            culture=1,
            budget_level="Budget",
            avg_temp_monthly=temperatures(29.0),
            region="africa",
        ),
        raw_city(
            "Museumburg",
            culture=5,
            cuisine=5,
            beaches=1,
            budget_level="Luxury",
            avg_temp_monthly=temperatures(22.0, 15.0),
        ),
        raw_city(
            "Snowpeak",
            adventure=5,
            nature=5,
            beaches=1,
            avg_temp_monthly=temperatures(5.0, 10.0),
            region="north_america",
        ),
        raw_city(
            "Partyville",
            nightlife=5,
            urban=5,
            budget_level="Budget",
            avg_temp_monthly=temperatures(24.0, 12.0),
            ideal_durations='["Weekend"]',
        ),
        raw_city(
            "Quietcove",
            seclusion=5,
            wellness=5,
            nature=4,
            budget_level="Mid-range",
            avg_temp_monthly=temperatures(26.0),
            region="asia",
            ideal_durations='["One week","Long trip"]',
        ),
    ]
    return core.validate_cities(pd.DataFrame(rows))


def fitted_catalog(table: pd.DataFrame, n_components: int = 3) -> pd.DataFrame:
    params = core.TrainParams(n_components=n_components)
    return core.catalog(table, core.fit_pca(core.build_features(table), params))


def request(**overrides) -> dict[str, object]:
    row = {
        "month": 7,
        "preferred_temp": 22.0,
        "budget_level": "Luxury",
        "regions": "",
        **dict.fromkeys(core.ACTIVITIES, 0.0),
        "trip_days": 7,
        "top_k": 1,
    }
    row.update(overrides)
    return row


# --- parsing --------------------------------------------------------------------------


def test_monthly_temperatures_parse_into_avg_max_min() -> None:
    months = core.parse_monthly_temperatures(temperatures(20.0, 12.0))
    assert sorted(months) == list(range(1, 13))
    assert months[7] == (20.0, 24.0, 16.0)
    assert months[1][0] == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "Expecting property name"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({str(m): {"avg": 1, "max": 2, "min": 0} for m in range(1, 12)}), "['12']"),
        (temperatures(20).replace('"max": 24.0', '"max": 10.0', 1), "min <= avg <= max"),
        (temperatures(20).replace('"avg": 20.0', '"avg": "warm"', 1), "not a number"),
        (temperatures(20).replace('"avg": 20.0', '"avg": 99', 1), "outside -60..60"),
    ],
    ids=["json", "list", "missing-month", "order", "text", "range"],
)
def test_bad_monthly_temperatures_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        core.parse_monthly_temperatures(text)


def test_durations_are_counted_as_items_not_characters() -> None:
    text = '["Short trip","One week"]'
    assert core.parse_durations(text) == ["Short trip", "One week"]
    assert len(core.parse_durations(text)) == 2  # the original demo took len(text) == 25


@pytest.mark.parametrize("text", ["[]", '"Weekend"', '["Fortnight"]', "[Weekend]"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message varies by the fault)
        core.parse_durations(text)


def test_the_trip_length_maps_to_its_duration_label() -> None:
    assert [core.duration_for(d) for d in (1, 2, 3, 4, 6, 7, 13, 14, 365)] == [
        "Day trip",
        "Weekend",
        "Weekend",
        "Short trip",
        "Short trip",
        "One week",
        "One week",
        "Long trip",
        "Long trip",
    ]


# --- the table ------------------------------------------------------------------------


def test_the_tidy_table_has_ratings_temperatures_and_duration_flags() -> None:
    table = tiny_table()
    assert len(table) == 5
    assert table["culture"].dtype == "int64"
    quietcove = table.set_index("city").loc["Quietcove"]
    assert quietcove["temp_avg_7"] == 26.0
    assert quietcove["temp_max_7"] == 30.0
    assert quietcove["durations"] == ["One week", "Long trip"]
    assert (quietcove["duration_one_week"], quietcove["duration_weekend"]) == (1, 0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda rows: rows[:0], "no rows"),
        (
            lambda rows: [{k: v for k, v in r.items() if k != "nightlife"} for r in rows],
            "missing column(s) nightlife",
        ),
        (lambda rows: [rows[0] | {"culture": "6"}, *rows[1:]], "rating from 1 to 5"),
        (lambda rows: [rows[0] | {"culture": "2.5"}, *rows[1:]], "rating from 1 to 5"),
        (lambda rows: [rows[0], rows[1] | {"budget_level": "Cheap"}], "budget_level"),
        (lambda rows: [rows[0], rows[1] | {"id": rows[0]["id"]}], "duplicate id"),
        (lambda rows: [rows[0], rows[1] | {"avg_temp_monthly": "{broken"}], "row 2"),
        (lambda rows: [rows[0] | {"ideal_durations": "Weekend"}, rows[1]], "ideal_durations"),
        (lambda rows: [rows[0] | {"city": " "}, rows[1]], "'city' is empty"),
        (lambda rows: [rows[0] | {"latitude": "95"}, rows[1]], "latitude"),
    ],
    ids=[
        "empty",
        "column",
        "rating",
        "fraction",
        "budget",
        "id",
        "json",
        "durations",
        "city",
        "latitude",
    ],
)
def test_malformed_tables_are_rejected_naming_the_fault(mutate, message: str) -> None:
    rows = [raw_city("A"), raw_city("B")]
    frame = pd.DataFrame(mutate(rows), columns=None if mutate(rows) else list(rows[0]))
    with pytest.raises(core.DataError) as caught:
        core.validate_cities(frame)
    assert message in str(caught.value)


# --- features and PCA -----------------------------------------------------------------


def test_features_and_pca() -> None:
    table = tiny_table()
    features = core.build_features(table)
    assert list(features.columns) == list(core.FEATURES)
    assert features.set_index(table["city"])["budget_rank"].to_dict() == {
        "Beachton": 1.0,
        "Museumburg": 3.0,
        "Snowpeak": 2.0,
        "Partyville": 1.0,
        "Quietcove": 2.0,
    }
    pipeline = core.fit_pca(features, core.TrainParams(n_components=3))
    ratios = pipeline.named_steps["pca"].explained_variance_ratio_
    assert len(ratios) == 3
    assert 0 < ratios.sum() <= 1
    assert list(ratios) == sorted(ratios, reverse=True)
    assert core.loadings(pipeline).shape == (len(core.FEATURES), 3)
    catalog = core.catalog(table, pipeline)
    assert {"pc1", "pc2", "pc3"} <= set(catalog.columns)
    with pytest.raises(core.ParameterError, match="number of cities"):
        core.fit_pca(features, core.TrainParams(n_components=5))
    # Two cities leave no n_components that could work: the file is what is short.
    with pytest.raises(core.DataError, match="holds 2 cities") as caught:
        core.fit_pca(features.head(2), core.TrainParams(n_components=2))
    assert "n_components" not in str(caught.value)


# --- ranking --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"beaches": 5.0, "preferred_temp": 29.0}, "Beachton"),
        ({"culture": 5.0, "cuisine": 5.0}, "Museumburg"),
        ({"adventure": 5.0, "nature": 5.0, "preferred_temp": 5.0}, "Snowpeak"),
        ({"nightlife": 5.0, "urban": 5.0, "trip_days": 2, "preferred_temp": 24.0}, "Partyville"),
        ({"seclusion": 5.0, "wellness": 5.0, "preferred_temp": 26.0}, "Quietcove"),
    ],
)
def test_the_obvious_city_ranks_first(overrides: dict, expected: str) -> None:
    catalog = fitted_catalog(tiny_table())
    result = core.recommend_all(catalog, pd.DataFrame([request(**overrides)]), diversity=0.0)
    assert result["city"].tolist() == [expected]
    assert result["rank"].tolist() == [1]


def test_the_reason_names_matching_activities_and_the_month_temperature() -> None:
    catalog = fitted_catalog(tiny_table())
    result = core.recommend_all(
        catalog, pd.DataFrame([request(beaches=5.0, preferred_temp=29.0, month=1)]), 0.0
    )
    reason = result["reason"].iloc[0]
    assert "beaches 5/5" in reason
    assert "29.0 °C on average in January" in reason
    assert "ideal for a one-week trip" in reason


def test_temperature_breaks_a_tie_in_activities() -> None:
    catalog = fitted_catalog(tiny_table())
    warm = core.recommend_all(catalog, pd.DataFrame([request(preferred_temp=29.0)]), 0.0)
    cold = core.recommend_all(catalog, pd.DataFrame([request(preferred_temp=5.0)]), 0.0)
    assert warm["city"].iloc[0] == "Beachton"
    assert cold["city"].iloc[0] == "Snowpeak"


def test_budget_is_a_ceiling_and_regions_a_filter() -> None:
    catalog = fitted_catalog(tiny_table())
    budget = core.recommend_all(
        catalog, pd.DataFrame([request(budget_level="Budget", culture=5.0, top_k=5)]), 0.0
    )
    assert set(budget["city"]) == {"Beachton", "Partyville"}
    asia = core.recommend_all(
        catalog, pd.DataFrame([request(regions="asia,africa", culture=5.0, top_k=5)]), 0.0
    )
    assert set(asia["city"]) == {"Quietcove", "Beachton"}
    nothing = core.recommend_all(
        catalog, pd.DataFrame([request(regions="asia", budget_level="Budget")]), 0.0
    )
    assert nothing.empty


def test_constraints_hold_for_many_random_requests_and_tables() -> None:
    rng = np.random.default_rng(11)
    regions = ["europe", "asia", "africa", "oceania"]
    rows = [
        raw_city(
            f"C{i}",
            region=regions[i % 4],
            budget_level=core.BUDGET_LEVELS[int(rng.integers(3))],
            avg_temp_monthly=temperatures(float(rng.uniform(-5, 32)), float(rng.uniform(0, 15))),
            **{a: int(rng.integers(1, 6)) for a in core.ACTIVITIES},
        )
        for i in range(60)
    ]
    table = core.validate_cities(pd.DataFrame(rows))
    catalog = fitted_catalog(table, n_components=4)
    requests = pd.DataFrame(
        [
            request(
                month=int(rng.integers(1, 13)),
                preferred_temp=float(rng.uniform(-10, 35)),
                budget_level=core.BUDGET_LEVELS[int(rng.integers(3))],
                regions=",".join(rng.choice(regions, size=int(rng.integers(0, 3)), replace=False)),
                **{a: float(rng.uniform(0, 5)) for a in core.ACTIVITIES},
                trip_days=int(rng.integers(1, 40)),
                top_k=int(rng.integers(1, 12)),
            )
            for _ in range(100)
        ]
    )
    for diversity in (0.0, 0.5, 0.9):
        results = core.recommend_all(catalog, requests, diversity)
        metrics = core.evaluation_metrics(catalog, requests, results)
        assert metrics["constraint_satisfaction"] == 1.0
        for number, group in results.groupby("profile"):
            wanted = requests.iloc[number]
            ceiling = core.budget_rank(wanted["budget_level"])
            assert group["budget_level"].map(core.budget_rank).max() <= ceiling
            if wanted["regions"]:
                assert set(group["region"]) <= set(wanted["regions"].split(","))
            assert group["rank"].tolist() == list(range(1, len(group) + 1))
            assert len(group) <= wanted["top_k"]
            assert group["city"].is_unique


def test_diversity_trades_relevance_for_spread() -> None:
    scores = np.array([1.0, 0.99, 0.5])
    same, other = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    vectors = np.array([same, same, other])
    assert core.select_diverse(scores, vectors, 2, diversity=0.0) == [0, 1]
    assert core.select_diverse(scores, vectors, 2, diversity=0.5) == [0, 2]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"month": 13}, "month=13"),
        ({"month": "July"}, "month='July' is not a number"),
        ({"budget_level": "Cheap"}, "budget_level='Cheap' is unknown"),
        ({"regions": "atlantis"}, "unknown region(s) atlantis"),
        ({"culture": 6.0}, "culture=6.0 must be a weight from 0 to 5"),
        ({"beaches": -1.0}, "beaches=-1.0"),
        ({"preferred_temp": 80.0}, "preferred_temp=80.0"),
        ({"trip_days": 0}, "trip_days=0"),
        ({"top_k": 51}, "top_k=51"),
        ({"nightlife": None}, "nightlife is missing"),
        ({"month": 12.9}, "month=12.9 must be an integer from 1 to 12"),
        ({"trip_days": 2.5}, "trip_days=2.5 must be an integer"),
        ({"culture": float("nan")}, "culture is missing"),
        ({"culture": float("inf")}, "culture=inf is not a finite number"),
        ({"preferred_temp": 1e300}, "preferred_temp=1e+300 must be from -30 to 45"),
    ],
)
def test_bad_requests_name_the_field(overrides: dict, field: str) -> None:
    catalog = fitted_catalog(tiny_table())
    with pytest.raises(core.PreferenceError) as caught:
        core.recommend_all(catalog, pd.DataFrame([request(), request(**overrides)]), 0.0)
    assert "request row 1" in str(caught.value)
    assert field in str(caught.value)


def test_whole_numbers_given_as_floats_are_accepted() -> None:
    catalog = fitted_catalog(tiny_table())
    as_floats = request(month=7.0, trip_days=4.0, top_k=2.0)
    assert len(core.recommend_all(catalog, pd.DataFrame([as_floats]), 0.0)) == 2


def test_the_served_signature_lets_the_recommender_check_whole_numbers() -> None:
    """MLflow's scoring server casts a JSON 12.9 to 12 for a "long" column; these columns
    pass through unconverted, and the recommender refuses 12.9 itself."""
    from cities_workflow import serving

    inputs = {spec.name: spec.type for spec in serving.signature().inputs.inputs}
    assert {type(inputs[name]).__name__ for name in ("month", "trip_days", "top_k")} == {"AnyType"}


def test_top_k_defaults_to_five() -> None:
    catalog = fitted_catalog(tiny_table())
    row = request()
    del row["top_k"]
    assert len(core.recommend_all(catalog, pd.DataFrame([row]), 0.0)) == 5


# --- metrics and gate -----------------------------------------------------------------


def test_evaluation_metrics_by_hand() -> None:
    catalog = fitted_catalog(tiny_table())
    profiles = pd.DataFrame([request(preferred_temp=20.0, top_k=2), request(top_k=2)])
    results = pd.DataFrame(
        {
            "profile": [0, 0, 1],
            "rank": [1, 2, 1],
            "city": ["Beachton", "Museumburg", "Beachton"],
            "country": ["Testland"] * 3,
        }
    )
    metrics = core.evaluation_metrics(catalog, profiles, results)
    assert metrics["constraint_satisfaction"] == 1.0
    assert metrics["filled_share"] == pytest.approx(3 / 4)
    # |29 - 20|, |22 - 20|, |29 - 22|
    assert metrics["temperature_abs_error_c"] == pytest.approx((9 + 2 + 7) / 3)
    assert metrics["temperature_fit"] == pytest.approx(np.mean(np.exp(-np.array([9, 2, 7]) / 5)))
    assert metrics["coverage"] == pytest.approx(2 / 3)
    assert metrics["catalog_coverage"] == pytest.approx(2 / 5)
    assert metrics["country_diversity"] == pytest.approx((1 / 2 + 1 / 1) / 2)
    broken = core.evaluation_metrics(
        catalog, pd.DataFrame([request(budget_level="Budget", top_k=2)]), results.iloc[:2]
    )
    assert broken["constraint_satisfaction"] == pytest.approx(0.5)


def test_gate_needs_full_constraints_and_enough_variance() -> None:
    gate = core.GateParams(min_explained_variance=0.7)
    assert core.decide(gate, 1.0, 0.75).passed
    assert "every recommendation meets its constraints" in core.decide(gate, 1.0, 0.75).summary()
    short = core.decide(gate, 0.99, 0.9)
    assert not short.passed
    assert "only 99.00% of recommendations" in short.summary()
    assert not core.decide(gate, 1.0, 0.69).passed


def test_gate_fails_empty_and_short_lists() -> None:
    gate = core.GateParams(min_explained_variance=0.7)
    short = core.decide(gate, 1.0, 0.9, filled_share=0.5)
    assert not short.passed
    assert "filled only 50.00% of the requested slots" in short.summary()
    empty = core.decide(gate, float("nan"), 0.9, filled_share=0.0)
    assert not empty.passed
    assert "no recommendations to check" in empty.summary()


def test_constraint_satisfaction_over_no_recommendations_is_undefined() -> None:
    catalog = fitted_catalog(tiny_table())
    profiles = pd.DataFrame([request(top_k=2)])
    nothing = pd.DataFrame({"profile": [], "rank": [], "city": [], "country": []})
    metrics = core.evaluation_metrics(catalog, profiles, nothing)
    assert np.isnan(metrics["constraint_satisfaction"])
    assert metrics["filled_share"] == 0.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_components", 1),
        ("n_components", 28),
        ("diversity", 1.0),
        ("diversity", -0.1),
        ("random_state", -1),
        ("n_components", 2.5),
    ],
)
def test_bad_parameters_name_the_parameter(field: str, value: object) -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.TrainParams(**{field: value})
    assert caught.value.name == field


@pytest.mark.parametrize("value", [0.0, 1.5, float("nan")])
def test_bad_gate_thresholds_are_refused(value: float) -> None:
    with pytest.raises(core.ParameterError, match="min_explained_variance"):
        core.GateParams(min_explained_variance=value)


def test_relevance_at_k_counts_empty_slots_and_broken_constraints_as_zero() -> None:
    catalog = fitted_catalog(tiny_table())
    profiles = pd.DataFrame(
        [
            {**request(preferred_temp=20.0, top_k=2), "name": "two slots, one filled"},
            {**request(budget_level="Budget", top_k=1), "name": "over budget"},
        ]
    )
    results = pd.DataFrame(
        {
            "profile": [0, 1],
            "rank": [1, 1],
            "city": ["Beachton", "Museumburg"],
            "country": ["Testland"] * 2,
        }
    )
    rows = core.profile_evidence(catalog, profiles, results)
    assert rows["row_id"].tolist() == ["two slots, one filled", "over budget"]
    preference = core.parse_preference(profiles.iloc[0].to_dict(), set(catalog["region"]))
    beachton = catalog[catalog["city"] == "Beachton"]
    fit = float(core.relevance(beachton, preference)["relevance"].iloc[0])
    assert rows["relevance_at_k"].iloc[0] == pytest.approx(fit / 2)
    # Museumburg breaks the Budget ceiling: it counts nothing.
    assert catalog.loc[catalog["city"] == "Museumburg", "budget_level"].item() == "Luxury"
    assert rows["relevance_at_k"].iloc[1] == 0.0
    assert (rows["loss"] == 1.0 - rows["relevance_at_k"]).all()


def test_the_promotion_rule_is_wilcoxon_on_relevance_at_k() -> None:
    rule = core.promotion_rule(0.05)
    assert (rule.metric, rule.higher_is_better, rule.test_name) == (
        "relevance_at_k",
        True,
        "Wilcoxon signed-rank",
    )

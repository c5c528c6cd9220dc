"""Pure travel-city recommendation: parsing and validating the city table, the
standardised city features, their PCA, the preference-based ranking with hard
constraints, the evaluation metrics over preference profiles, and the gate.

Nothing here reads files, talks to MLflow or prints; every function takes and returns
in-memory values so the tests can call it on a handful of handmade cities.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from lifecycle.errors import DataError, ParameterError

ACTIVITIES: tuple[str, ...] = (
    "culture",
    "adventure",
    "nature",
    "beaches",
    "nightlife",
    "cuisine",
    "wellness",
    "urban",
    "seclusion",
)
MONTHS: tuple[int, ...] = tuple(range(1, 13))
BUDGET_LEVELS: tuple[str, ...] = ("Budget", "Mid-range", "Luxury")  # cheapest first
DURATIONS: tuple[str, ...] = ("Day trip", "Weekend", "Short trip", "One week", "Long trip")
# Trip length in days -> the duration label it falls under (upper bounds, inclusive).
DURATION_DAYS: tuple[tuple[int, str], ...] = (
    (1, "Day trip"),
    (3, "Weekend"),
    (6, "Short trip"),
    (13, "One week"),
    (365, "Long trip"),
)
TRIP_WORDS: dict[str, str] = {
    "Day trip": "a day trip",
    "Weekend": "a weekend",
    "Short trip": "a short trip",
    "One week": "a one-week trip",
    "Long trip": "a long trip",
}
REQUIRED_COLUMNS: tuple[str, ...] = (
    "id",
    "city",
    "country",
    "region",
    "latitude",
    "longitude",
    "avg_temp_monthly",
    "ideal_durations",
    "budget_level",
    *ACTIVITIES,
)
TEMPERATURE_COLUMNS: tuple[str, ...] = tuple(f"temp_avg_{m}" for m in MONTHS)
DURATION_COLUMNS: tuple[str, ...] = tuple(
    "duration_" + label.lower().replace(" ", "_") for label in DURATIONS
)
FEATURES: tuple[str, ...] = (*ACTIVITIES, *TEMPERATURE_COLUMNS, "budget_rank", *DURATION_COLUMNS)
MIN_TEMPERATURE_C, MAX_TEMPERATURE_C = -60.0, 60.0
MAX_WEIGHT = 5.0
MAX_TOP_K = 50
MAX_TRIP_DAYS = 365
# Temperature fit: exp(-|city temperature - preferred| / TEMPERATURE_SCALE_C).
TEMPERATURE_SCALE_C = 5.0
MAX_RANDOM_STATE = 2**32 - 1


MIN_COMPONENTS = 2


class PreferenceError(ValueError):
    """A preference row that cannot be served; the message names the field at fault."""


def _require_int(name: str, value: object, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(name, value, "must be an integer")
    if not minimum <= value <= maximum:
        raise ParameterError(name, value, f"must be an integer from {minimum} to {maximum}")


def _require_fraction(name: str, value: object, *, low_open: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(name, value, "must be a number")
    number = float(value)
    if not math.isfinite(number) or number > 1.0 or number < 0.0 or (low_open and number == 0):
        left = "(" if low_open else "["
        raise ParameterError(name, value, f"must be a number in {left}0, 1]")


# Weights of the three parts of a city's relevance; they sum to 1.
ACTIVITY_SHARE, TEMPERATURE_SHARE, DURATION_SHARE = 0.5, 0.35, 0.15


@dataclass(frozen=True)
class TrainParams:
    """The recommender's recipe; constructing it validates every field."""

    n_components: int = 5
    diversity: float = 0.2
    random_state: int = 42

    def __post_init__(self) -> None:
        _require_int("n_components", self.n_components, MIN_COMPONENTS, len(FEATURES))
        _require_fraction("diversity", self.diversity, low_open=False)
        if self.diversity == 1.0:
            raise ParameterError(
                "diversity", self.diversity, "must be below 1 (1 would ignore relevance)"
            )
        _require_int("random_state", self.random_state, 0, MAX_RANDOM_STATE)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateParams:
    """The registration gate: every constraint respected, and enough explained variance."""

    min_explained_variance: float = 0.7

    def __post_init__(self) -> None:
        _require_fraction("min_explained_variance", self.min_explained_variance, low_open=True)


# --- the city table -------------------------------------------------------------------


def _rows(mask: pd.Series | np.ndarray, limit: int = 5) -> list[int]:
    """1-based data-row numbers (the header is row 0) of the first ``limit`` true entries."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(mask))[:limit]]


def parse_monthly_temperatures(text: str) -> dict[int, tuple[float, float, float]]:
    """``{"1": {"avg": .., "max": .., "min": ..}, ..., "12": {...}}`` -> {month: (avg, max, min)}.

    Raises ``ValueError`` naming what is wrong: not JSON, a missing month, a missing or
    non-numeric value, a value out of range, or min <= avg <= max broken.
    """
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("is not a JSON object keyed by month")
    missing = [str(m) for m in MONTHS if str(m) not in parsed]
    extra = sorted(set(parsed) - {str(m) for m in MONTHS})
    if missing or extra:
        raise ValueError(
            f"needs months 1..12; missing {missing or 'none'}, unknown {extra or 'none'}"
        )
    months = {}
    for month in MONTHS:
        entry = parsed[str(month)]
        if not isinstance(entry, dict):
            raise ValueError(f"month {month} is not an object with avg, max and min")
        values = []
        for key in ("avg", "max", "min"):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"month {month} {key} is {value!r}, not a number")
            if not MIN_TEMPERATURE_C <= value <= MAX_TEMPERATURE_C:
                raise ValueError(f"month {month} {key}={value} is outside -60..60 °C")
            values.append(float(value))
        average, highest, lowest = values
        if not lowest <= average <= highest:
            raise ValueError(
                f"month {month} breaks min <= avg <= max ({lowest}, {average}, {highest})"
            )
        months[month] = (average, highest, lowest)
    return months


def parse_durations(text: str) -> list[str]:
    """``["Short trip", "One week"]`` -> the list of labels (never the string's length)."""
    parsed = json.loads(text)
    if not isinstance(parsed, list) or not parsed:
        raise ValueError("is not a non-empty JSON list of duration labels")
    unknown = [label for label in parsed if label not in DURATIONS]
    if unknown:
        raise ValueError(f"holds unknown label(s) {unknown}; known: {', '.join(DURATIONS)}")
    return list(dict.fromkeys(parsed))


def _parse_column(frame: pd.DataFrame, column: str, parse) -> list:
    """Apply ``parse`` to every cell, naming the first rows it rejects."""
    results, bad = [], []
    for position, text in enumerate(frame[column].tolist()):
        try:
            results.append(parse(text))
        except (ValueError, TypeError) as error:  # json.JSONDecodeError is a ValueError
            bad.append((position + 1, str(error)))
    if bad:
        details = "; ".join(f"row {row}: {reason}" for row, reason in bad[:3])
        raise DataError(f"column {column!r} is malformed in {len(bad)} row(s): {details}")
    return results


def validate_cities(frame: pd.DataFrame) -> pd.DataFrame:
    """Check the raw city table and return the tidy one the model uses.

    The result has ``id, city, country, region, budget_level, latitude, longitude``,
    the nine ratings as integers, ``temp_avg_1..12``, ``temp_max_1..12``,
    ``temp_min_1..12``, ``durations`` (a list per city) and one 0/1 column per duration
    label. Malformed rows are rejected with the column and rows at fault.
    """
    if frame.empty:
        raise DataError(f"the table has no rows: expected columns {', '.join(REQUIRED_COLUMNS)}")
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; found {', '.join(map(str, frame.columns))}"
        )
    tidy = pd.DataFrame(index=frame.index)
    for column in ("id", "city", "country", "region"):
        text = frame[column].astype("string").str.strip()
        empty = text.isna() | (text == "")
        if empty.any():
            raise DataError(f"column {column!r} is empty in data row(s) {_rows(empty)}")
        tidy[column] = text.astype(object)
    tidy["region"] = tidy["region"].str.lower()
    duplicated = tidy["id"].duplicated(keep=False)
    if duplicated.any():
        raise DataError(f"duplicate id(s) in data row(s) {_rows(duplicated)}")
    budget = frame["budget_level"].astype("string").str.strip()
    unknown = ~budget.isin(BUDGET_LEVELS)
    if unknown.any():
        raise DataError(
            f"column 'budget_level' must be one of {', '.join(BUDGET_LEVELS)}; data row(s) "
            f"{_rows(unknown)} hold {budget[unknown].head(3).tolist()}"
        )
    tidy["budget_level"] = budget.astype(object)
    for column, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() | (numbers < low) | (numbers > high)
        if bad.any():
            raise DataError(
                f"column {column!r} must be a number in {low}..{high}; data row(s) {_rows(bad)}"
            )
        tidy[column] = numbers.astype("float64")
    for column in ACTIVITIES:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() | (numbers % 1 != 0) | (numbers < 1) | (numbers > 5)
        if bad.any():
            raise DataError(
                f"column {column!r} must be an integer rating from 1 to 5; data row(s) "
                f"{_rows(bad)} hold {frame[column][bad].head(3).tolist()}"
            )
        tidy[column] = numbers.astype("int64")
    temperatures = _parse_column(frame, "avg_temp_monthly", parse_monthly_temperatures)
    for index, kind in enumerate(("avg", "max", "min")):
        for month in MONTHS:
            tidy[f"temp_{kind}_{month}"] = [t[month][index] for t in temperatures]
    durations = _parse_column(frame, "ideal_durations", parse_durations)
    tidy["durations"] = durations
    for label, column in zip(DURATIONS, DURATION_COLUMNS, strict=True):
        tidy[column] = [int(label in labels) for labels in durations]
    return tidy.reset_index(drop=True)


# --- features and PCA -----------------------------------------------------------------


def build_features(cities: pd.DataFrame) -> pd.DataFrame:
    """The numeric features PCA sees: ratings, monthly average temperatures, budget rank
    (1 = Budget .. 3 = Luxury) and one 0/1 column per ideal trip duration."""
    features = cities[list(ACTIVITIES)].astype("float64")
    for column in TEMPERATURE_COLUMNS:
        features[column] = cities[column].astype("float64")
    features["budget_rank"] = cities["budget_level"].map(budget_rank).astype("float64")
    for column in DURATION_COLUMNS:
        features[column] = cities[column].astype("float64")
    return features[list(FEATURES)]


def budget_rank(level: str) -> int:
    return BUDGET_LEVELS.index(level) + 1


def fit_pca(features: pd.DataFrame, params: TrainParams) -> Pipeline:
    """Standardise every feature, then PCA with ``n_components`` components."""
    if len(features) <= MIN_COMPONENTS:
        raise DataError(
            f"the cities file holds {len(features)} cities; the recommender needs at least "
            f"{MIN_COMPONENTS + 1} to fit {MIN_COMPONENTS} components: use a fuller file"
        )
    if len(features) <= params.n_components:
        raise ParameterError(
            "n_components",
            params.n_components,
            f"must be below the number of cities ({len(features)})",
        )
    pipeline = Pipeline(
        [
            ("standardise", StandardScaler()),
            (
                "pca",
                PCA(n_components=params.n_components, random_state=params.random_state),
            ),
        ]
    )
    return pipeline.fit(features)


def loadings(pipeline: Pipeline) -> pd.DataFrame:
    """Feature x component weights of the fitted PCA."""
    pca: PCA = pipeline.named_steps["pca"]
    columns = [f"pc{i + 1}" for i in range(pca.n_components_)]
    return pd.DataFrame(pca.components_.T, index=list(FEATURES), columns=columns)


def catalog(cities: pd.DataFrame, pipeline: Pipeline) -> pd.DataFrame:
    """What the served recommender needs per city: names, constraints, ratings,
    monthly temperatures, durations and the PCA coordinates (``pc1..pcN``)."""
    embedding = pipeline.transform(build_features(cities))
    columns = [
        "id",
        "city",
        "country",
        "region",
        "budget_level",
        *ACTIVITIES,
        *TEMPERATURE_COLUMNS,
        *DURATION_COLUMNS,
    ]
    table = cities[columns].copy()
    for i in range(embedding.shape[1]):
        table[f"pc{i + 1}"] = embedding[:, i]
    return table


# --- preferences ----------------------------------------------------------------------


@dataclass(frozen=True)
class Preference:
    """One traveller's request, validated."""

    month: int
    preferred_temp: float
    budget_level: str
    regions: tuple[str, ...]
    weights: dict[str, float]
    trip_days: int
    top_k: int

    @property
    def duration(self) -> str:
        return duration_for(self.trip_days)


def duration_for(trip_days: int) -> str:
    """The duration label a trip of ``trip_days`` days falls under."""
    return next(label for limit, label in DURATION_DAYS if trip_days <= limit)


def _number(row: dict, field: str) -> float:
    value = row.get(field)
    if value is None or isinstance(value, bool) or (isinstance(value, float) and math.isnan(value)):
        raise PreferenceError(f"{field} is missing: give a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise PreferenceError(f"{field}={value!r} is not a number") from None
    if not math.isfinite(number):
        raise PreferenceError(f"{field}={value!r} is not a finite number")
    return number


def _integer(row: dict, field: str, low: int, high: int, default: int | None = None) -> int:
    value = row.get(field)
    if default is not None and (value is None or (isinstance(value, float) and math.isnan(value))):
        return default
    number = _number(row, field)
    if number != int(number) or not low <= number <= high:
        raise PreferenceError(f"{field}={value!r} must be an integer from {low} to {high}")
    return int(number)


def parse_regions(value: object, known_regions: set[str]) -> tuple[str, ...]:
    """Optional regions: a comma-separated string or a list; empty means any region."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple | np.ndarray):
        items = [str(item) for item in value]
    else:
        raise PreferenceError(f"regions={value!r} must be a comma-separated string or a list")
    regions = tuple(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    unknown = [region for region in regions if region not in known_regions]
    if unknown:
        raise PreferenceError(
            f"regions holds unknown region(s) {', '.join(unknown)}; known: "
            f"{', '.join(sorted(known_regions))}"
        )
    return regions


def parse_preference(row: dict, known_regions: set[str]) -> Preference:
    """Validate one request row; the error names the first field at fault."""
    month = _integer(row, "month", 1, 12)
    preferred = _number(row, "preferred_temp")
    if not -30.0 <= preferred <= 45.0:
        raise PreferenceError(f"preferred_temp={preferred!r} must be from -30 to 45 (°C)")
    budget = row.get("budget_level")
    if budget not in BUDGET_LEVELS:
        raise PreferenceError(
            f"budget_level={budget!r} is unknown; use one of {', '.join(BUDGET_LEVELS)}"
        )
    weights = {}
    for activity in ACTIVITIES:
        weight = _number(row, activity)
        if not 0.0 <= weight <= MAX_WEIGHT:
            raise PreferenceError(f"{activity}={weight!r} must be a weight from 0 to 5")
        weights[activity] = weight
    return Preference(
        month=month,
        preferred_temp=preferred,
        budget_level=str(budget),
        regions=parse_regions(row.get("regions"), known_regions),
        weights=weights,
        trip_days=_integer(row, "trip_days", 1, MAX_TRIP_DAYS),
        top_k=_integer(row, "top_k", 1, MAX_TOP_K, default=5),
    )


# --- ranking --------------------------------------------------------------------------


def eligible(table: pd.DataFrame, preference: Preference) -> pd.Series:
    """The hard constraints: a city within the budget (the traveller's level or cheaper)
    and, when regions are given, in one of them."""
    affordable = table["budget_level"].map(budget_rank) <= budget_rank(preference.budget_level)
    if preference.regions:
        return affordable & table["region"].isin(preference.regions)
    return affordable


def relevance(table: pd.DataFrame, preference: Preference) -> pd.DataFrame:
    """Per city: activity match, temperature fit and duration fit (each 0..1) and their
    weighted sum ``relevance``."""
    weights = np.array([preference.weights[a] for a in ACTIVITIES])
    ratings = table[list(ACTIVITIES)].to_numpy(dtype="float64")
    if weights.sum() > 0:
        activity = (ratings @ weights) / (5.0 * weights.sum())
    else:
        activity = np.full(len(table), 0.5)
    temperature = table[f"temp_avg_{preference.month}"].to_numpy(dtype="float64")
    temperature_fit = np.exp(-np.abs(temperature - preference.preferred_temp) / TEMPERATURE_SCALE_C)
    duration_column = "duration_" + preference.duration.lower().replace(" ", "_")
    duration_fit = table[duration_column].to_numpy(dtype="float64")
    return pd.DataFrame(
        {
            "activity_match": activity,
            "temperature_fit": temperature_fit,
            "duration_fit": duration_fit,
            "relevance": ACTIVITY_SHARE * activity
            + TEMPERATURE_SHARE * temperature_fit
            + DURATION_SHARE * duration_fit,
        },
        index=table.index,
    )


def _embedding(table: pd.DataFrame) -> np.ndarray:
    columns = [c for c in table.columns if c.startswith("pc") and c[2:].isdigit()]
    vectors = table[columns].to_numpy(dtype="float64")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def select_diverse(
    scores: np.ndarray, unit_vectors: np.ndarray, top_k: int, diversity: float
) -> list[int]:
    """Greedy maximal-marginal-relevance picks: each next city maximises
    ``(1 - diversity) * score - diversity * s``, where ``s`` is its highest cosine
    similarity (floored at 0) to a city already picked. Ties go to the earlier row."""
    chosen: list[int] = []
    remaining = np.ones(len(scores), dtype=bool)
    most_similar = np.zeros(len(scores))
    for _ in range(min(top_k, len(scores))):
        value = np.where(remaining, (1 - diversity) * scores - diversity * most_similar, -np.inf)
        best = int(np.argmax(value))
        chosen.append(best)
        remaining[best] = False
        most_similar = np.maximum(most_similar, unit_vectors @ unit_vectors[best])
    return chosen


def _reason(city: pd.Series, fit: pd.Series, preference: Preference) -> str:
    weighted = [a for a in ACTIVITIES if preference.weights[a] > 0]
    strong = sorted(weighted, key=lambda a: (-int(city[a]) * preference.weights[a], a))[:3]
    matches = ", ".join(f"{a} {int(city[a])}/5" for a in strong) or "no activity weighted"
    temperature = city[f"temp_avg_{preference.month}"]
    month_name = pd.Timestamp(2000, preference.month, 1).strftime("%B")
    duration = "ideal" if fit["duration_fit"] > 0 else "not listed"
    return (
        f"{matches}; {temperature:.1f} °C on average in {month_name} "
        f"(you prefer {preference.preferred_temp:g}); {city['budget_level']}; "
        f"{duration} for {TRIP_WORDS[preference.duration]}"
    )


RESULT_COLUMNS: tuple[str, ...] = (
    "profile",
    "rank",
    "city",
    "country",
    "region",
    "budget_level",
    "score",
    "temperature_c",
    "reason",
)


def recommend(table: pd.DataFrame, preference: Preference, diversity: float) -> pd.DataFrame:
    """The ranked cities for one preference; only cities meeting the hard constraints.

    Fewer than ``top_k`` rows come back when fewer cities meet the constraints.
    """
    candidates = table[eligible(table, preference)]
    if candidates.empty:
        return pd.DataFrame(columns=list(RESULT_COLUMNS[1:]))
    fit = relevance(candidates, preference)
    picks = select_diverse(
        fit["relevance"].to_numpy(), _embedding(candidates), preference.top_k, diversity
    )
    rows = []
    for rank, position in enumerate(picks, start=1):
        city = candidates.iloc[position]
        city_fit = fit.iloc[position]
        rows.append(
            {
                "rank": rank,
                "city": city["city"],
                "country": city["country"],
                "region": city["region"],
                "budget_level": city["budget_level"],
                "score": float(city_fit["relevance"]),
                "temperature_c": float(city[f"temp_avg_{preference.month}"]),
                "reason": _reason(city, city_fit, preference),
            }
        )
    return pd.DataFrame(rows)


def recommend_all(table: pd.DataFrame, requests: pd.DataFrame, diversity: float) -> pd.DataFrame:
    """Recommendations for every request row, stacked, with the request's row number in
    ``profile``. Raises ``PreferenceError`` naming the row and field at fault."""
    known_regions = set(table["region"])
    preferences = []
    for number, row in enumerate(requests.to_dict(orient="records")):
        try:
            preferences.append(parse_preference(row, known_regions))
        except PreferenceError as error:
            raise PreferenceError(f"request row {number}: {error}") from None
    frames = []
    for number, preference in enumerate(preferences):
        ranked = recommend(table, preference, diversity)
        ranked.insert(0, "profile", number)
        frames.append(ranked)
    result = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return result.reindex(columns=list(RESULT_COLUMNS)).astype(
        {"profile": "int64", "rank": "int64", "score": "float64", "temperature_c": "float64"}
    )


# --- evaluation and gate --------------------------------------------------------------


def evaluation_metrics(
    table: pd.DataFrame, profiles: pd.DataFrame, results: pd.DataFrame
) -> dict[str, float]:
    """How the recommendations for ``profiles`` fare.

    - ``constraint_satisfaction``: share of recommended cities meeting their profile's
      budget and region constraints (must be 1; NaN when nothing was recommended);
    - ``filled_share``: recommended slots over requested ``top_k`` slots;
    - ``temperature_abs_error_c``, ``temperature_fit``: mean |city temperature in the
      month - preferred temperature| and mean exp(-error / 5 °C);
    - ``coverage``: distinct cities over recommended slots (1 = no city repeats across
      profiles); ``catalog_coverage``: distinct cities over all cities;
    - ``country_diversity``: mean share of distinct countries within a profile's list.
    """
    known_regions = set(table["region"])
    lookup = table.set_index(["city", "country"])
    satisfied, errors, requested, countries = [], [], 0, []
    for number, row in enumerate(profiles.to_dict(orient="records")):
        preference = parse_preference(row, known_regions)
        requested += preference.top_k
        mine = results[results["profile"] == number]
        if mine.empty:
            continue
        cities = lookup.loc[list(zip(mine["city"], mine["country"], strict=True))].reset_index()
        satisfied.extend(eligible(cities, preference).tolist())
        errors.extend(
            np.abs(cities[f"temp_avg_{preference.month}"] - preference.preferred_temp).tolist()
        )
        countries.append(mine["country"].nunique() / len(mine))
    slots = len(results)
    distinct = len(set(zip(results["city"], results["country"], strict=True)))
    error = np.array(errors, dtype="float64")
    return {
        # Over zero recommendations there is nothing to satisfy: undefined, never 100 %.
        "constraint_satisfaction": float(np.mean(satisfied)) if satisfied else float("nan"),
        "filled_share": slots / requested if requested else 0.0,
        "temperature_abs_error_c": float(error.mean()) if error.size else float("nan"),
        "temperature_fit": float(np.exp(-error / TEMPERATURE_SCALE_C).mean())
        if error.size
        else 0.0,
        "coverage": distinct / slots if slots else 0.0,
        "catalog_coverage": distinct / len(table),
        "country_diversity": float(np.mean(countries)) if countries else 0.0,
    }


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate: every requested slot filled, every recommendation within its
    constraints, and enough explained variance. A passing model replaces the champion
    (there is no accuracy to compare; see ``lifecycle.registry``)."""

    constraint_satisfaction: float
    value: float  # the PCA's explained variance
    threshold: float
    passed: bool
    filled_share: float = 1.0
    metric: str = "explained_variance"

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        if self.filled_share < 1.0:
            filled = (
                f"the recommender filled only {self.filled_share:.2%} of the requested slots "
                f"(100% required)"
            )
        else:
            filled = "every requested slot filled"
        if math.isnan(self.constraint_satisfaction):
            constraints = "no recommendations to check against their constraints"
        elif self.constraint_satisfaction == 1.0:
            constraints = "every recommendation meets its constraints"
        else:
            constraints = (
                f"only {self.constraint_satisfaction:.2%} of recommendations meet their "
                f"constraints (100% required)"
            )
        comparison = ">=" if self.value >= self.threshold else "<"
        return (
            f"gate {verdict}: {filled}; {constraints}; explained variance {self.value:.4f} "
            f"{comparison} {self.threshold:.4f}"
        )

    def summary(self) -> str:
        """The gate line alone (the register step appends the champion's outcome)."""
        return self.text() if self.passed else self.text() + "; no model version registered"


def decide(
    gate: GateParams,
    constraint_satisfaction: float,
    explained_variance: float,
    filled_share: float = 1.0,
) -> GateDecision:
    """Pass when every slot is filled, every recommendation meets its constraints (an
    empty answer meets nothing), and the explained variance reaches the threshold."""
    passed = (
        filled_share >= 1.0
        and constraint_satisfaction == 1.0
        and explained_variance >= gate.min_explained_variance
    )
    return GateDecision(
        constraint_satisfaction=constraint_satisfaction,
        value=explained_variance,
        threshold=gate.min_explained_variance,
        passed=passed,
        filled_share=filled_share,
    )

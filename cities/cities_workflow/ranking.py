"""Ranking the catalog for one preference: the hard constraints (budget, regions),
the relevance (activities, temperature, duration), the diverse selection and the
reason given for each city."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cities_workflow.preferences import Preference, PreferenceError, parse_preference
from cities_workflow.schema import (
    ACTIVITIES,
    ACTIVITY_SHARE,
    DURATION_SHARE,
    TEMPERATURE_SCALE_C,
    TEMPERATURE_SHARE,
    TRIP_WORDS,
    budget_rank,
)


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

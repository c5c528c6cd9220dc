"""The city table's vocabulary: activities, months, budget levels, trip durations,
the columns of the table and of the features, and the limits a request must respect.
Plain constants, imported by every other module of the recommender."""

from __future__ import annotations

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

# Weights of the three parts of a city's relevance; they sum to 1.
ACTIVITY_SHARE, TEMPERATURE_SHARE, DURATION_SHARE = 0.5, 0.35, 0.15


def budget_rank(level: str) -> int:
    """1 for the cheapest budget level, up to 3 for the dearest."""
    return BUDGET_LEVELS.index(level) + 1

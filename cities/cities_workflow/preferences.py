"""A traveller's request, parsed and checked: month, preferred temperature, budget,
regions, activity weights, trip length and list length. A bad field raises
``PreferenceError`` naming the field and the row."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cities_workflow.schema import (
    ACTIVITIES,
    BUDGET_LEVELS,
    DURATION_DAYS,
    MAX_TOP_K,
    MAX_TRIP_DAYS,
    MAX_WEIGHT,
)


class PreferenceError(ValueError):
    """A preference row that cannot be served; the message names the field at fault."""


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

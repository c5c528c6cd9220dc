"""Parsing and validating the city table: the monthly temperatures and ideal durations
held as JSON in its cells, the ratings, the budget levels. A problem raises
``DataError`` naming the column and the rows."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from cities_workflow.schema import (
    ACTIVITIES,
    BUDGET_LEVELS,
    DURATION_COLUMNS,
    DURATIONS,
    MAX_TEMPERATURE_C,
    MIN_TEMPERATURE_C,
    MONTHS,
    REQUIRED_COLUMNS,
)
from lifecycle.errors import DataError


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

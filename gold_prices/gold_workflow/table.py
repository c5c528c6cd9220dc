"""Validating the OHLC price table (dates, prices, the optional volume), checking a
served window is plausible, and dropping a partial last bar. A problem raises
``DataError`` naming the column and the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gold_workflow.schema import (
    DATE,
    PARTIAL_BAR_REFERENCE_ROWS,
    PARTIAL_BAR_VOLUME_RATIO,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    SOURCE_DATE_FORMAT,
    VOLUME,
)
from lifecycle.errors import DataError


def _rows(mask: pd.Series | np.ndarray, limit: int = 5) -> list[int]:
    """1-based data-row numbers (the header is row 0) of the first ``limit`` true entries."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(mask))[:limit]]


# A UTC offset or zone name at the end of a timestamp (``+02:00``, ``Z``, `` UTC``).
_ZONE = r"(?:\s*(?:[+-]\d{2}:?\d{2}|Z|UTC|GMT))$"


def parse_date_values(values: pd.Series) -> pd.Series:
    """Dates in the source format (``2025.06.05 00:00``) or ISO 8601 (``2025-06-05``);
    NaT where a value is neither.

    Time zones are handled explicitly: a bar is a trading day, so a timestamp with a zone
    (a tz-aware column, or text ending in ``+02:00`` or ``Z``) counts as the calendar day
    of its own wall clock; the zone is dropped, never converted (``2025-06-05 00:00+02:00``
    is 5 June, not the 4th in UTC)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if values.dtype.kind == "M":
        return values.astype("datetime64[ns]")
    text = values.astype("string").str.strip().str.replace(_ZONE, "", regex=True)
    parsed = pd.to_datetime(text, format=SOURCE_DATE_FORMAT, errors="coerce")
    iso = pd.to_datetime(text[parsed.isna()], format="ISO8601", errors="coerce")
    return parsed.fillna(iso).astype("datetime64[ns]")


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates in the source format or ISO 8601; raises ``DataError`` naming the rows that
    hold neither."""
    parsed = parse_date_values(values)
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].head(3).tolist())
        raise DataError(
            f"column {DATE!r} must hold dates like 2025.06.05 00:00 or 2025-06-05; "
            f"data row(s) {_rows(bad)} hold {examples}"
        )
    return parsed


def validate_prices(frame: pd.DataFrame) -> pd.DataFrame:
    """Check an OHLC table and return it with parsed dates and float prices, sorted by date.

    Requires ``Date, Open, High, Low, Close`` (``Volume`` is optional). Rejects empty
    tables, missing or non-numeric values, non-positive prices, bars whose High/Low do not
    contain Open and Close, and duplicate dates; every message names the rows at fault.
    """
    if frame.empty:
        raise DataError(f"the table has no rows: expected columns {';'.join(REQUIRED_COLUMNS)}")
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        hint = ""
        if len(frame.columns) == 1 and any(sep in str(frame.columns[0]) for sep in ",\t|"):
            hint = "; the header looks as if it used another separator than ';'"
        raise DataError(
            f"missing column(s) {', '.join(missing)}: expected "
            f"{';'.join((*REQUIRED_COLUMNS, VOLUME))}; found {found}{hint}"
        )
    clean = pd.DataFrame({DATE: parse_dates(frame[DATE])}, index=frame.index)
    numeric_columns = [*PRICE_COLUMNS, *([VOLUME] if VOLUME in frame.columns else [])]
    for column in numeric_columns:
        numbers = pd.to_numeric(frame[column], errors="coerce").astype("float64")
        bad = ~np.isfinite(numbers.to_numpy())
        if bad.any():
            examples = ", ".join(repr(v) for v in frame[column][bad].head(3).tolist())
            raise DataError(
                f"column {column!r} must hold finite numbers; data row(s) {_rows(bad)} "
                f"hold {examples}"
            )
        clean[column] = numbers
    for column in PRICE_COLUMNS:
        bad = (clean[column] <= 0).to_numpy()
        if bad.any():
            raise DataError(
                f"column {column!r} must be positive; data row(s) {_rows(bad)} hold "
                f"{clean[column][bad].head(3).tolist()}"
            )
    if VOLUME in clean.columns and (clean[VOLUME] < 0).any():
        raise DataError(f"column 'Volume' is negative in data row(s) {_rows(clean[VOLUME] < 0)}")
    inconsistent = (clean["Low"] > clean[["Open", "Close"]].min(axis=1)) | (
        clean["High"] < clean[["Open", "Close"]].max(axis=1)
    )
    if inconsistent.any():
        raise DataError(
            f"inconsistent bar(s) in data row(s) {_rows(inconsistent)}: Low must be <= Open "
            f"and Close, and High >= Open and Close"
        )
    duplicated = clean[DATE].duplicated(keep=False)
    if duplicated.any():
        dates = sorted({d.strftime("%Y-%m-%d") for d in clean[DATE][duplicated]})[:5]
        raise DataError(
            f"duplicate date(s) {', '.join(dates)} in data row(s) {_rows(duplicated)}: "
            f"each trading day must appear once"
        )
    return clean.sort_values(DATE, kind="stable").reset_index(drop=True)


# What a served window of daily gold bars may hold: prices in US dollars per ounce
# (gold has traded between about 35 and a few thousand), dates from 1950 to a week
# ahead of the request, and gaps between bars no longer than a long holiday.
PLAUSIBLE_PRICE = (1.0, 1e6)
EARLIEST_DATE = pd.Timestamp("1950-01-01")
MAX_DAYS_AHEAD = 7
MAX_GAP_DAYS = 10


def check_plausible_window(prices: pd.DataFrame, now: pd.Timestamp) -> None:
    """Refuse a validated window (``validate_prices``) that no real gold history holds;
    each message names the field and the bar's date."""
    low, high = PLAUSIBLE_PRICE
    for column in PRICE_COLUMNS:
        outside = (prices[column] < low) | (prices[column] > high)
        if outside.any():
            first = prices[outside].iloc[0]
            raise DataError(
                f"{column} on {first[DATE]:%Y-%m-%d} is {first[column]:.4g}, outside the "
                f"plausible range {low:g} to {high:g} US dollars per ounce"
            )
    latest = now.normalize() + pd.Timedelta(days=MAX_DAYS_AHEAD)
    dates = prices[DATE]
    if dates.iloc[0] < EARLIEST_DATE or dates.iloc[-1] > latest:
        bad = dates.iloc[0] if dates.iloc[0] < EARLIEST_DATE else dates.iloc[-1]
        raise DataError(
            f"{DATE} {bad:%Y-%m-%d} is implausible: dates must lie between "
            f"{EARLIEST_DATE:%Y-%m-%d} and {latest:%Y-%m-%d}"
        )
    gaps = dates.diff().dt.days
    if (gaps > MAX_GAP_DAYS).any():
        position = int(np.flatnonzero((gaps > MAX_GAP_DAYS).to_numpy())[0])
        raise DataError(
            f"{DATE} jumps {int(gaps.iloc[position])} days from "
            f"{dates.iloc[position - 1]:%Y-%m-%d} to {dates.iloc[position]:%Y-%m-%d}; the bars "
            f"must be consecutive trading days "
            f"(gaps of at most {MAX_GAP_DAYS} days)"
        )


def drop_partial_last_bar(prices: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Drop the final bar when it looks like a snapshot taken mid-session.

    The last bar counts as partial when its Volume is below half the median Volume of
    the 20 bars before it (the pinned file's 2025-06-06 bar has about 15%). Returns the
    table and the dropped bar's date (None when nothing was dropped or there is no Volume).
    """
    if VOLUME not in prices.columns or len(prices) <= PARTIAL_BAR_REFERENCE_ROWS:
        return prices, None
    reference = prices[VOLUME].iloc[-PARTIAL_BAR_REFERENCE_ROWS - 1 : -1].median()
    last = prices.iloc[-1]
    if reference > 0 and last[VOLUME] < PARTIAL_BAR_VOLUME_RATIO * reference:
        return prices.iloc[:-1].reset_index(drop=True), last[DATE].strftime("%Y-%m-%d")
    return prices, None


def cut_at(prices: pd.DataFrame, cutoff_date: str) -> pd.DataFrame:
    """The bars up to and including ``cutoff_date`` (YYYY-MM-DD) of a validated table."""
    cutoff = pd.Timestamp(cutoff_date)
    kept = prices[prices[DATE] <= cutoff]
    if kept.empty:
        raise DataError(
            f"cutoff_date {cutoff_date} is before the first bar "
            f"({prices[DATE].iloc[0]:%Y-%m-%d}): no history is left to train on"
        )
    return kept.reset_index(drop=True)

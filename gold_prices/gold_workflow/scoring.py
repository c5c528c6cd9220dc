"""How the score step runs the gold forecaster over a price history: the typed OHLC
fields, the forecast columns it adds, the checks each bar must pass, and the forecast
for every date with enough history, each built from that date's and earlier bars only.

The forecast for a date uses the same features and the same ``forecast_close`` as the
walk-forward backtest, so scoring a history with a model gives the forecasts the
backtest computes with that model for those dates.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from gold_workflow.features import build_features
from gold_workflow.regressors import forecast_close
from gold_workflow.schema import (
    DATE,
    MIN_HISTORY,
    NUMERIC_FEATURES,
    PRICE_COLUMNS,
    VOLUME,
)
from gold_workflow.table import (
    EARLIEST_DATE,
    MAX_DAYS_AHEAD,
    MAX_GAP_DAYS,
    PLAUSIBLE_PRICE,
    parse_date_values,
)
from lifecycle.score.rows import Field

# Bars per chunk when a long history is scored in parallel; each chunk also reads the
# MIN_HISTORY - 1 bars before it.
CHUNK_ROWS = 1024
PREDICTIONS = (
    Field("horizon", "long"),
    Field("forecast_close", "double"),
    Field("forecast_log_return", "double"),
)


def row_problems(typed: pd.DataFrame) -> pd.Series:
    """Per bar: None, or the first thing wrong with it (its date, a price, its range)."""
    reasons = pd.Series([None] * len(typed), index=typed.index, dtype=object)

    def flag(mask: np.ndarray, reason: Any) -> None:
        for row in np.flatnonzero(mask):
            if reasons.iloc[row] is None:
                reasons.iloc[int(row)] = reason(row) if callable(reason) else reason

    dates = parse_date_values(typed[DATE])
    flag(
        dates.isna().to_numpy(),
        lambda row: f"{DATE} {typed[DATE].iloc[row]!r} is not a date like 2025-06-05",
    )
    # The served model's own bounds: no bar before 1950 or more than a week ahead.
    latest = pd.Timestamp.now().normalize() + pd.Timedelta(days=MAX_DAYS_AHEAD)
    flag(
        (dates.notna() & ((dates < EARLIEST_DATE) | (dates > latest))).to_numpy(),
        lambda row: (
            f"{DATE} {dates.iloc[row]:%Y-%m-%d} is implausible: dates must lie between "
            f"{EARLIEST_DATE:%Y-%m-%d} and {latest:%Y-%m-%d}"
        ),
    )
    low, high = PLAUSIBLE_PRICE
    for column in PRICE_COLUMNS:
        values = typed[column].to_numpy(dtype="float64")
        flag(~np.isfinite(values), f"{column} must be a finite number")
        flag(
            np.isfinite(values) & ((values < low) | (values > high)),
            lambda row, column=column, values=values: (
                f"{column} is {values[row]:.4g}, outside the plausible range {low:g} to "
                f"{high:g} US dollars per ounce"
            ),
        )
    if VOLUME in typed.columns:
        volume = typed[VOLUME].to_numpy(dtype="float64", na_value=np.nan)
        flag(volume < 0, "Volume is negative")
    opens, closes = typed["Open"].to_numpy(float), typed["Close"].to_numpy(float)
    lows, highs = typed["Low"].to_numpy(float), typed["High"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        inconsistent = (lows > np.minimum(opens, closes)) | (highs < np.maximum(opens, closes))
    flag(inconsistent, "inconsistent bar: Low must be <= Open and Close, High >= both")
    return reasons


def gap_problem(keys: np.ndarray) -> str | None:
    """Why sorted bar dates (as int64 nanoseconds) are not one series of consecutive
    trading days: the first jump of more than ``MAX_GAP_DAYS``, as the served model
    refuses it. A forecast across such a gap would read bars from another era."""
    if len(keys) < 2:
        return None
    gaps = np.diff(keys) / 86_400e9
    jumps = np.flatnonzero(gaps > MAX_GAP_DAYS)
    if not len(jumps):
        return None
    at = int(jumps[0])
    before, after = pd.Timestamp(int(keys[at])), pd.Timestamp(int(keys[at + 1]))
    return (
        f"{DATE} jumps {int(gaps[at])} days from {before:%Y-%m-%d} to {after:%Y-%m-%d}; the "
        f"bars must be consecutive trading days (gaps of at most {MAX_GAP_DAYS} days): score "
        f"each stretch as an input of its own. Nothing was written"
    )


def forecast_every_date(model: Any, horizon: int, prices: pd.DataFrame) -> pd.DataFrame:
    """For a validated window sorted by date: ``_position`` and the forecast of every
    bar with ``MIN_HISTORY - 1`` bars before it in the window."""
    features = build_features(prices.reset_index(drop=True))
    complete = features[list(NUMERIC_FEATURES)].notna().all(axis=1).to_numpy()
    rows = features[complete]
    if rows.empty:
        return pd.DataFrame(
            {"_position": np.array([], dtype="int64")}
            | {
                f.name: np.array([], dtype="int64" if f.type == "long" else "float64")
                for f in PREDICTIONS
            }
        )
    closes = forecast_close(model, rows)
    return pd.DataFrame(
        {
            "_position": np.flatnonzero(complete),
            "horizon": np.full(len(rows), horizon, dtype="int64"),
            "forecast_close": closes,
            "forecast_log_return": np.log(closes / rows["Close"].to_numpy(dtype="float64")),
        }
    )


class GoldScorer:
    """The gold forecaster as the score step sees it: a series ordered by date."""

    project = "gold_prices"
    inputs: tuple[Field, ...] = (
        Field(DATE, "string"),
        *(Field(column, "double") for column in PRICE_COLUMNS),
        Field(VOLUME, "double", required=False),
    )
    predictions: tuple[Field, ...] = PREDICTIONS
    series_order: str | None = DATE
    history_rows = MIN_HISTORY - 1
    chunk_rows = CHUNK_ROWS

    def row_problems(self, model: Any, typed: pd.DataFrame) -> pd.Series:
        return row_problems(typed)

    def order_key(self, typed: pd.DataFrame) -> pd.Series:
        return parse_date_values(typed[DATE]).astype("int64")

    def series_gap(self, keys: Any) -> str | None:
        return gap_problem(np.asarray(keys, dtype="int64"))

    def load(self, model_path: str) -> Any:
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(model_path).unwrap_python_model()

    def predict(self, model: Any, typed: pd.DataFrame) -> pd.DataFrame:
        prices = pd.DataFrame({DATE: parse_date_values(typed[DATE])})
        for column in PRICE_COLUMNS:
            prices[column] = typed[column].astype("float64").to_numpy()
        return forecast_every_date(model.model, int(model.horizon), prices)

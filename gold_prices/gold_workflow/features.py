"""Leak-free features (each uses only rows up to its own date) and the target, the
log return of the close ``horizon`` rows later."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gold_workflow.schema import (
    AVERAGE_WINDOWS,
    DATE,
    MIN_HISTORY,
    NUMERIC_FEATURES,
    RETURN_LAGS,
    RETURN_WINDOWS,
    VOLATILITY_WINDOWS,
)


def build_features(prices: pd.DataFrame) -> pd.DataFrame:
    """One row of features per bar, computed from that bar and earlier bars only.

    ``prices`` is a validated table sorted by date. The result keeps ``Date`` and
    ``Close`` beside the features; the first ``MIN_HISTORY - 1`` rows have missing
    features because their look-back windows are incomplete.
    """
    close = prices["Close"]
    log_close = np.log(close)
    daily_return = log_close.diff()
    features = pd.DataFrame({DATE: prices[DATE], "Close": close}, index=prices.index)
    for k in RETURN_WINDOWS:
        features[f"return_{k}d"] = log_close - log_close.shift(k)
    for j in RETURN_LAGS:
        features[f"return_lag_{j}"] = daily_return.shift(j)
    for w in VOLATILITY_WINDOWS:
        features[f"volatility_{w}d"] = daily_return.rolling(w).std()
    for w in AVERAGE_WINDOWS:
        features[f"close_vs_mean_{w}d"] = close / close.rolling(w).mean() - 1.0
    bar_range = prices["High"] - prices["Low"]
    features["range_pct"] = bar_range / close
    features["close_location"] = ((close - prices["Low"]) / bar_range.where(bar_range > 0)).fillna(
        0.5
    )
    features["gap_pct"] = prices["Open"] / close.shift(1) - 1.0
    features["day_of_week"] = prices[DATE].dt.day_of_week.astype("int64")
    features["month"] = prices[DATE].dt.month.astype("int64")
    # Rows whose longest look-back is incomplete have no usable features.
    features.loc[features.index[: MIN_HISTORY - 1], list(NUMERIC_FEATURES)] = np.nan
    return features


def future_log_return(close: pd.Series, horizon: int) -> pd.Series:
    """The target: log(close ``horizon`` rows later / close); missing for the last rows."""
    return pd.Series(np.log(close.shift(-horizon) / close), index=close.index)

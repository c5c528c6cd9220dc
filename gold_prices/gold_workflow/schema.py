"""The price table's columns, the features' names and windows, and the limits of the
forecaster: plain constants every other module of the forecaster imports."""

from __future__ import annotations

DATE = "Date"
PRICE_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close")
REQUIRED_COLUMNS: tuple[str, ...] = (DATE, *PRICE_COLUMNS)
VOLUME = "Volume"  # optional, validated but not a feature: its scale changes in 2025
SOURCE_DATE_FORMAT = "%Y.%m.%d %H:%M"

MODEL_KINDS: tuple[str, ...] = ("linear_regression", "ridge", "gradient_boosting")
RETURN_WINDOWS: tuple[int, ...] = (1, 5, 10, 21, 63)
RETURN_LAGS: tuple[int, ...] = (1, 2, 3, 4)
VOLATILITY_WINDOWS: tuple[int, ...] = (5, 21)
AVERAGE_WINDOWS: tuple[int, ...] = (5, 21, 63)
# Rows a forecast needs: the forecast day plus the longest look-back (63 days).
MIN_HISTORY = max(RETURN_WINDOWS) + 1
NUMERIC_FEATURES: tuple[str, ...] = (
    *(f"return_{k}d" for k in RETURN_WINDOWS),
    *(f"return_lag_{j}" for j in RETURN_LAGS),
    *(f"volatility_{w}d" for w in VOLATILITY_WINDOWS),
    *(f"close_vs_mean_{w}d" for w in AVERAGE_WINDOWS),
    "range_pct",
    "close_location",
    "gap_pct",
)
CALENDAR_FEATURES: tuple[str, ...] = ("day_of_week", "month")
FEATURES: tuple[str, ...] = (*NUMERIC_FEATURES, *CALENDAR_FEATURES)
# The smallest training set a backtest refit may use: one trading year.
MIN_TRAIN_ROWS = 250
MAX_HORIZON = 63
MAX_RANDOM_STATE = 2**32 - 1
PARTIAL_BAR_VOLUME_RATIO = 0.5
PARTIAL_BAR_REFERENCE_ROWS = 20

"""Pure gold-price forecasting: OHLC validation, leak-free features, the time split,
the walk-forward backtest, forecast metrics against the naive last-close forecast, and
the registration gate.

The model predicts the log return of the close ``horizon`` trading days ahead from
features that use only rows up to the forecast date; the forecast price is the last
close times ``exp`` of that return. Nothing here reads files, talks to MLflow or prints.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifecycle.errors import DataError, ParameterError
from lifecycle.promotion import format_value

if TYPE_CHECKING:
    from sklearn.base import RegressorMixin
    from sklearn.pipeline import Pipeline

# scikit-learn is imported inside the functions that build or fit a model: the register
# step and parameter validation never pay for it.

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


def _require_int(name: str, value: object, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError(name, value, "must be an integer")
    if not minimum <= value <= maximum:
        raise ParameterError(name, value, f"must be an integer from {minimum} to {maximum}")


def _require_float(name: str, value: object, low: float, high: float, *, high_open: bool) -> None:
    """A finite number in (low, high] or (low, high)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(name, value, "must be a number")
    number = float(value)
    too_high = number >= high if high_open else number > high
    if not np.isfinite(number) or number <= low or too_high:
        right = ")" if high_open else "]"
        raise ParameterError(name, value, f"must be a number in ({low:g}, {high:g}{right}")


@dataclass(frozen=True)
class TrainParams:
    """The forecasting recipe of one training run; constructing it validates every field."""

    model: str = "linear_regression"
    horizon: int = 1
    backtest_fraction: float = 0.2
    refit_every: int = 21
    alpha: float = 1.0
    n_estimators: int = 100
    learning_rate: float = 0.05
    max_depth: int = 3
    random_state: int = 42

    def __post_init__(self) -> None:
        if self.model not in MODEL_KINDS:
            raise ParameterError("model", self.model, f"must be one of {', '.join(MODEL_KINDS)}")
        _require_int("horizon", self.horizon, 1, MAX_HORIZON)
        _require_float("backtest_fraction", self.backtest_fraction, 0.0, 1.0, high_open=True)
        _require_int("refit_every", self.refit_every, 1, 10_000)
        _require_float("alpha", self.alpha, 0.0, 1e6, high_open=False)
        _require_int("n_estimators", self.n_estimators, 1, 5_000)
        _require_float("learning_rate", self.learning_rate, 0.0, 1.0, high_open=False)
        _require_int("max_depth", self.max_depth, 1, 20)
        _require_int("random_state", self.random_state, 0, MAX_RANDOM_STATE)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateParams:
    """The registration gate: the highest backtest MASE a model may have (1.0 = naive)."""

    max_mase: float = 1.0

    def __post_init__(self) -> None:
        _require_float("max_mase", self.max_mase, 0.0, 100.0, high_open=False)


# --- data -----------------------------------------------------------------------------


def _rows(mask: pd.Series | np.ndarray, limit: int = 5) -> list[int]:
    """1-based data-row numbers (the header is row 0) of the first ``limit`` true entries."""
    return [int(i) + 1 for i in np.flatnonzero(np.asarray(mask))[:limit]]


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates in the source format (``2025.06.05 00:00``) or ISO 8601 (``2025-06-05``)."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format=SOURCE_DATE_FORMAT, errors="coerce")
    iso = pd.to_datetime(text[parsed.isna()], format="ISO8601", errors="coerce")
    parsed = parsed.fillna(iso)
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in values[bad].head(3).tolist())
        raise DataError(
            f"column {DATE!r} must hold dates like 2025.06.05 00:00 or 2025-06-05; "
            f"data row(s) {_rows(bad)} hold {examples}"
        )
    return parsed.astype("datetime64[ns]")


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


# --- features and target --------------------------------------------------------------


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


# --- models ---------------------------------------------------------------------------


def build_regressor(params: TrainParams) -> Pipeline:
    """An unfitted pipeline: scaled numeric features, one-hot calendar, the chosen model."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    if params.model == "linear_regression":
        regressor: RegressorMixin = LinearRegression()
    elif params.model == "ridge":
        regressor = Ridge(alpha=params.alpha, random_state=params.random_state)
    else:
        regressor = HistGradientBoostingRegressor(
            max_iter=params.n_estimators,
            learning_rate=params.learning_rate,
            max_depth=params.max_depth,
            early_stopping=False,
            random_state=params.random_state,
        )
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), list(NUMERIC_FEATURES)),
            (
                "calendar",
                OneHotEncoder(
                    categories=[list(range(7)), list(range(1, 13))],
                    drop="first",
                    handle_unknown="ignore",
                    sparse_output=False,
                ),
                list(CALENDAR_FEATURES),
            ),
        ]
    )
    return Pipeline([("features", preprocess), ("regress", regressor)])


def forecast_close(model: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """Forecast prices: each row's close times exp(the predicted log return)."""
    predicted = model.predict(features[list(FEATURES)])
    return features["Close"].to_numpy(dtype="float64") * np.exp(predicted)


# --- the time split and the walk-forward backtest ---------------------------------------


@dataclass(frozen=True)
class TimeSplit:
    """Row positions of the forecast origins used for training and for the backtest."""

    usable: np.ndarray  # rows with complete features and a known target, in time order
    first_test: int  # position in ``usable`` of the first backtest origin

    @property
    def train_rows(self) -> np.ndarray:
        return self.usable[: self.first_test]

    @property
    def test_rows(self) -> np.ndarray:
        return self.usable[self.first_test :]


def time_split(features: pd.DataFrame, target: pd.Series, backtest_fraction: float) -> TimeSplit:
    """Split the forecast origins by time: the last ``backtest_fraction`` are the backtest.

    Raises ``DataError`` when the history is too short for any split, and
    ``ParameterError`` when this fraction would leave fewer than ``MIN_TRAIN_ROWS``
    training rows or hold no row at all.
    """
    complete = features[list(NUMERIC_FEATURES)].notna().all(axis=1) & target.notna()
    usable = np.flatnonzero(complete.to_numpy())
    n_test = int(np.ceil(backtest_fraction * len(usable)))
    n_train = len(usable) - n_test
    if len(usable) < MIN_TRAIN_ROWS + 1:
        # No backtest_fraction could help: the file itself is too short.
        raise DataError(
            f"the data holds {len(usable)} usable daily rows (rows with every feature and "
            f"a known target); training needs at least {MIN_TRAIN_ROWS} and the backtest "
            "at least one more: use a longer price history"
        )
    if n_test < 1 or n_train < MIN_TRAIN_ROWS:
        raise ParameterError(
            "backtest_fraction",
            backtest_fraction,
            f"leaves {n_train} training and {n_test} backtest rows out of {len(usable)} "
            f"usable rows; training needs at least {MIN_TRAIN_ROWS}",
        )
    return TimeSplit(usable=usable, first_test=n_train)


def training_rows_before(usable: np.ndarray, origin: int, horizon: int) -> np.ndarray:
    """Rows whose target was already observed at forecast origin ``origin``.

    A row's target needs the close ``horizon`` rows after it, so only rows with
    ``row + horizon <= origin`` may train a model that forecasts from ``origin``.
    """
    return usable[usable + horizon <= origin]


@dataclass(frozen=True)
class Backtest:
    """Walk-forward forecasts: one row per backtest origin, plus the number of refits."""

    forecasts: (
        pd.DataFrame
    )  # Date, target_date, last_close, actual_close, forecast_close, naive_close
    refits: int


def walk_forward(
    params: TrainParams, features: pd.DataFrame, target: pd.Series, split: TimeSplit
) -> Backtest:
    """Refit every ``refit_every`` origins on all earlier known targets, forecast the block.

    The window expands: block ``b`` is forecast by a model fitted on every row whose
    target was observed by the block's first origin. Nothing after that origin is used.
    """
    from sklearn.base import clone

    template = build_regressor(params)
    test_rows = split.test_rows
    forecasts = np.empty(len(test_rows))
    refits = 0
    for start in range(0, len(test_rows), params.refit_every):
        block = test_rows[start : start + params.refit_every]
        train_rows = training_rows_before(split.usable, int(block[0]), params.horizon)
        model = clone(template).fit(
            features.iloc[train_rows][list(FEATURES)], target.iloc[train_rows]
        )
        forecasts[start : start + len(block)] = forecast_close(model, features.iloc[block])
        refits += 1
    close = features["Close"].to_numpy(dtype="float64")
    dates = features[DATE].to_numpy()
    table = pd.DataFrame(
        {
            DATE: dates[test_rows],
            "target_date": dates[test_rows + params.horizon],
            "last_close": close[test_rows],
            "actual_close": close[test_rows + params.horizon],
            "forecast_close": forecasts,
            "naive_close": close[test_rows],
        }
    )
    return Backtest(forecasts=table, refits=refits)


def fit_final(params: TrainParams, features: pd.DataFrame, target: pd.Series) -> Pipeline:
    """The model to serve: fitted on every row with complete features and a known target."""
    complete = features[list(NUMERIC_FEATURES)].notna().all(axis=1) & target.notna()
    return build_regressor(params).fit(features.loc[complete, list(FEATURES)], target[complete])


# --- metrics --------------------------------------------------------------------------


def forecast_metrics(
    actual: np.ndarray, forecast: np.ndarray, last_close: np.ndarray
) -> dict[str, float]:
    """MAE, RMSE, MAPE (percent) and directional accuracy of price forecasts.

    Directional accuracy counts, over the origins where the price moved, how often the
    forecast moved the same way; a forecast of no change is never right.
    """
    actual = np.asarray(actual, dtype="float64")
    forecast = np.asarray(forecast, dtype="float64")
    last_close = np.asarray(last_close, dtype="float64")
    error = forecast - actual
    moved = actual != last_close
    same_direction = np.sign(forecast - last_close) == np.sign(actual - last_close)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mape": float(100.0 * np.mean(np.abs(error) / np.abs(actual))),
        "directional_accuracy": float(np.mean(same_direction[moved])) if moved.any() else 0.0,
    }


def backtest_metrics(forecasts: pd.DataFrame) -> dict[str, float]:
    """The model's and the naive forecast's metrics, MASE, and the share of up moves.

    MASE is the model's MAE divided by the naive last-close forecast's MAE on the same
    origins: below 1 beats naive. ``backtest_up_share`` is the directional accuracy an
    always-up forecast would have, the baseline for the model's directional accuracy.
    """
    actual = forecasts["actual_close"].to_numpy()
    last_close = forecasts["last_close"].to_numpy()
    model = forecast_metrics(actual, forecasts["forecast_close"].to_numpy(), last_close)
    naive = forecast_metrics(actual, forecasts["naive_close"].to_numpy(), last_close)
    moved = actual != last_close
    metrics = {f"backtest_{key}": value for key, value in model.items()}
    metrics.update({f"naive_{key}": naive[key] for key in ("mae", "rmse", "mape")})
    metrics["backtest_mase"] = model["mae"] / naive["mae"] if naive["mae"] > 0 else float("inf")
    metrics["backtest_up_share"] = float(np.mean(actual[moved] > last_close[moved]))
    return metrics


def verdict_against_naive(mase: float) -> str:
    """Plain words for a MASE value."""
    if mase < 1.0:
        return "beats the naive last-close forecast"
    if mase == 1.0:
        return "ties the naive last-close forecast"
    return "does NOT beat the naive last-close forecast"


# --- the gate -------------------------------------------------------------------------


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate: the backtest MASE must be finite and at most the threshold.

    Whether a passing model then replaces the champion is the registry's rule
    (``lifecycle.promotion``): strictly lower MASE, on the same backtest days.
    """

    value: float
    threshold: float
    passed: bool
    metric: str = "mase"

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        comparison = "<=" if self.passed else ">"
        if not math.isfinite(self.value):
            return (
                f"gate FAILED: backtest MASE is {format_value(self.value)} (the naive "
                f"forecast's error is zero on the backtest days, so MASE has no finite value)"
            )
        return (
            f"gate {verdict}: backtest MASE {format_value(self.value)} {comparison} "
            f"{self.threshold:.4f} (the model {verdict_against_naive(self.value)})"
        )

    def summary(self) -> str:
        """The gate line alone (the register step appends the champion's outcome)."""
        return self.text() if self.passed else self.text() + "; no model version registered"


def decide(gate: GateParams, mase: float) -> GateDecision:
    """Pass when MASE is finite and at most the threshold."""
    passed = bool(np.isfinite(mase)) and mase <= gate.max_mase
    return GateDecision(value=mase, threshold=gate.max_mase, passed=passed)


def measured_on(data_sha256: str, horizon: int, backtest_start: str, backtest_days: int) -> str:
    """What identifies the backtest days a MASE was measured on: the data file, the
    horizon (which sets the target) and the first and number of backtest days."""
    return (
        f"data_sha256={data_sha256} horizon={int(horizon)} backtest_start={backtest_start} "
        f"backtest_days={int(backtest_days)}"
    )

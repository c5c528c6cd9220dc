"""What monitor reads of gold, pure: the profile of the training inputs (the engineered
features of the rows the final model was fitted on, not the prices, which trend), the
same features of a batch of bars, and live performance once the truth is known: each
scored forecast joined to the close ``horizon`` trading days after its origin in a table
of realised closes, and the live MASE against the naive last-close forecast over that
window, with the Diebold-Mariano tests against naive."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gold_workflow.features import build_features
from gold_workflow.schema import DATE, MIN_HISTORY, NUMERIC_FEATURES
from gold_workflow.table import parse_date_values, validate_prices
from lifecycle import significance
from lifecycle.errors import DataError
from lifecycle.monitor import drift
from lifecycle.monitor.verdicts import LiveCheck, UnjudgedError
from lifecycle.significance import PairedTest, format_p

FORECAST_COLUMNS = ("horizon", "forecast_close")


@dataclass(frozen=True)
class LivePerformance:
    """Forecasts whose target close is known, joined to it, and how they fared."""

    joined: pd.DataFrame  # Date, target_date, last_close, forecast_close, actual_close
    mase: float
    mae: float
    naive_mae: float
    versus_naive: PairedTest | None
    worse_than_naive: PairedTest | None

    @property
    def rows(self) -> int:
        return len(self.joined)


MISSING_TARGETS = "missing_targets"  # the joined table's attrs key: forecasts left out


def join_realised(
    forecasts: pd.DataFrame, closes: pd.DataFrame, calendar: pd.Series | None = None
) -> pd.DataFrame:
    """Each forecast (``Date``, ``Close``, ``horizon``, ``forecast_close``) joined, by
    date, to the realised close of its target day: ``horizon`` trading days after its
    date on ``calendar`` (the trading days of the scored series and of ``closes``;
    ``closes``' own days when not given). A forecast whose target day lies beyond the
    last known day is not yet known and left out; one whose target day is a trading day
    that ``closes`` lacks is left out too, and counted in ``attrs[MISSING_TARGETS]``:
    never scored against another day's close."""
    for name, table, columns in (
        ("forecasts", forecasts, (DATE, "Close", "horizon", "forecast_close")),
        ("closes", closes, (DATE, "Close")),
    ):
        missing = [column for column in columns if column not in table.columns]
        if missing:
            raise DataError(f"the {name} lack column(s) {', '.join(missing)}")
    days = closes[[DATE, "Close"]].copy()
    days[DATE] = pd.to_datetime(days[DATE])
    close_on = days.drop_duplicates(DATE, keep="last").set_index(DATE)["Close"]
    known_days = pd.to_datetime(pd.Series(close_on.index))
    if calendar is not None:
        known_days = pd.concat([known_days, pd.to_datetime(calendar).dropna()])
    trading = pd.DatetimeIndex(known_days.drop_duplicates().sort_values())
    origins = forecasts.copy()
    origins[DATE] = pd.to_datetime(origins[DATE])
    at = np.asarray(trading.get_indexer(pd.DatetimeIndex(origins[DATE])), dtype="int64")
    target = at + origins["horizon"].to_numpy(dtype="int64")
    reachable = (at >= 0) & (target < len(trading))
    origins, target = origins[reachable], target[reachable]
    target_days = trading[target]
    present = target_days.isin(close_on.index)
    joined = pd.DataFrame(
        {
            DATE: origins[DATE].dt.strftime("%Y-%m-%d").to_numpy()[present],
            "target_date": target_days[present].strftime("%Y-%m-%d"),
            "last_close": origins["Close"].to_numpy(dtype="float64")[present],
            "forecast_close": origins["forecast_close"].to_numpy(dtype="float64")[present],
            "actual_close": close_on.reindex(target_days[present]).to_numpy(dtype="float64"),
        }
    )
    joined.attrs[MISSING_TARGETS] = int((~present).sum())
    return joined


def live_performance(
    forecasts: pd.DataFrame, closes: pd.DataFrame, calendar: pd.Series | None = None
) -> LivePerformance:
    """Live MASE of ``forecasts`` against the naive last-close forecast over the window
    whose truth ``closes`` holds, with the one-sided DM test for "better than naive"."""
    joined = join_realised(forecasts, closes, calendar)
    if joined.empty:
        raise DataError("no forecast's target close is in the realised closes yet")
    horizon = int(forecasts["horizon"].iloc[0])
    model = (joined["forecast_close"] - joined["actual_close"]).abs().to_numpy()
    naive = (joined["last_close"] - joined["actual_close"]).abs().to_numpy()
    naive_mae = float(naive.mean())
    mase = float(model.mean()) / naive_mae if naive_mae > 0 else float("inf")
    better: PairedTest | None
    worse: PairedTest | None
    try:
        better = significance.diebold_mariano(model, naive, horizon)
        worse = significance.diebold_mariano(naive, model, horizon)
    except ValueError:
        better = worse = None  # too few rows for the horizon: reported without a test
    return LivePerformance(joined, mase, float(model.mean()), naive_mae, better, worse)


def reference_profile(
    features: pd.DataFrame, usable: np.ndarray, random_state: int
) -> drift.Profile:
    """The profile of the engineered features on the rows the final model is fitted on."""
    rows = features.iloc[usable][list(NUMERIC_FEATURES)]
    return drift.build_profile(rows, numeric=NUMERIC_FEATURES, seed=random_state)


def monitored_features(batch: pd.DataFrame) -> pd.DataFrame:
    """The engineered features of a batch of bars (a price table or a score output),
    for the bars with their full look-back in the batch. A batch too short for any
    raises ``UnjudgedError``; a malformed one ``DataError``."""
    columns = [c for c in (DATE, "Open", "High", "Low", "Close", "Volume") if c in batch.columns]
    prices = validate_prices(batch[columns])
    features = build_features(prices)[list(NUMERIC_FEATURES)]
    complete = features.dropna()
    if complete.empty:
        raise UnjudgedError(
            f"the batch holds {len(prices)} bars; a feature needs {MIN_HISTORY} bars of "
            f"look-back, so none can be compared with the profile"
        )
    return complete.reset_index(drop=True)


def batch_date(batch: pd.DataFrame) -> pd.Timestamp | None:
    """The batch's last bar's date, if its dates can be read."""
    if DATE not in batch.columns:
        return None
    dates = parse_date_values(batch[DATE]).dropna()
    return None if dates.empty else pd.Timestamp(dates.max())


def live_check(
    forecasts: pd.DataFrame,
    closes: pd.DataFrame,
    backtest_mase: float,
    alpha: float,
    trained_until: pd.Timestamp | None = None,
) -> LiveCheck:
    """Live MASE of scored forecasts against the realised closes: degraded when the
    one-sided Diebold-Mariano test finds the model's errors larger than the naive
    forecast's (p below ``alpha``). Forecasts made on or before ``trained_until`` (the
    last bar the model was fitted on) are in-sample, so they are left out.
    ``UnjudgedError`` when no out-of-sample forecast's target is known yet."""
    missing = [column for column in FORECAST_COLUMNS if column not in forecasts.columns]
    if missing:
        raise DataError(
            f"the input lacks {', '.join(missing)}: live performance needs forecasts, so "
            f"monitor a gold_prices score output"
        )
    scored = forecasts.dropna(subset=list(FORECAST_COLUMNS))
    calendar = parse_date_values(forecasts[DATE]) if DATE in forecasts.columns else None
    prices = validate_prices(
        closes[[c for c in (DATE, "Open", "High", "Low", "Close", "Volume") if c in closes]]
    )
    origins = scored.copy()
    origins[DATE] = parse_date_values(origins[DATE])
    origins = origins[origins[DATE].notna()]
    in_sample = 0
    if trained_until is not None:
        in_sample = int((origins[DATE] <= trained_until).sum())
        origins = origins[origins[DATE] > trained_until]
    if origins.empty:
        raise UnjudgedError(
            f"every forecast was made on or before {trained_until:%Y-%m-%d}, the last bar the "
            f"model was trained on: none is out of sample"
        )
    try:
        performance = live_performance(origins, prices, calendar)
    except DataError as error:
        raise UnjudgedError(str(error)) from error
    worse = performance.worse_than_naive
    degraded = worse is not None and worse.p_value < alpha
    test_text = (
        "too few days for the Diebold-Mariano test"
        if worse is None
        else f"Diebold-Mariano (HLN) one-sided p={format_p(worse.p_value)} for worse than naive"
    )
    missing_targets = int(performance.joined.attrs.get(MISSING_TARGETS, 0))
    left_out = ", ".join(
        text
        for text in (
            f"{in_sample} in-sample" if in_sample else "",
            f"{missing_targets} whose target day the truth lacks" if missing_targets else "",
        )
        if text
    )
    return LiveCheck(
        metric="live_mase",
        value=performance.mase,
        reference=backtest_mase,
        rows=performance.rows,
        test=significance.DIEBOLD_MARIANO,
        statistic=float("nan") if worse is None else worse.statistic,
        p_value=1.0 if worse is None else worse.p_value,
        degraded=degraded,
        summary=(
            f"live MASE {performance.mase:.4f} on {performance.rows} forecasts whose close is "
            f"known{f' ({left_out} left out)' if left_out else ''} (backtest MASE "
            f"{backtest_mase:.4f}): {test_text}, "
            f"{'degraded' if degraded else 'not degraded'} at alpha {alpha:g}"
        ),
        metrics={
            "live_mae": performance.mae,
            "live_naive_mae": performance.naive_mae,
            "live_in_sample_left_out": float(in_sample),
            "live_missing_target_left_out": float(missing_targets),
            **(
                {"live_dm_better_p_value": performance.versus_naive.p_value}
                if performance.versus_naive is not None
                else {}
            ),
        },
    )

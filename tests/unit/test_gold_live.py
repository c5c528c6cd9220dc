"""Unit tests of gold_workflow.live on a hand-built series."""

from __future__ import annotations

import pandas as pd
import pytest

from gold_workflow import live


def closes() -> pd.DataFrame:
    dates = pd.bdate_range("2025-01-06", periods=8).strftime("%Y-%m-%d")
    return pd.DataFrame({"Date": dates, "Close": [100, 102, 101, 105, 104, 108, 107, 110.0]})


def test_each_forecast_meets_the_close_horizon_trading_days_later() -> None:
    realised = closes()
    forecasts = pd.DataFrame(
        {
            "Date": realised["Date"].iloc[:3],
            "Close": realised["Close"].iloc[:3],
            "horizon": 2,
            "forecast_close": [101.0, 103.0, 104.0],
        }
    )
    joined = live.join_realised(forecasts, realised)
    assert joined["target_date"].tolist() == realised["Date"].iloc[2:5].tolist()
    assert joined["actual_close"].tolist() == [101.0, 105.0, 104.0]


def test_a_target_day_the_truth_lacks_is_left_out_and_counted_not_shifted() -> None:
    """The scored series has every trading day; the truth lacks one. The forecast whose
    target is that day is not scored against the next day's close."""
    series = closes()
    realised = series.drop(index=3)  # 2025-01-09 is missing from the truth
    forecasts = pd.DataFrame(
        {
            "Date": series["Date"].iloc[:4],
            "Close": series["Close"].iloc[:4],
            "horizon": 2,
            "forecast_close": [101.0, 103.0, 104.0, 106.0],
        }
    )
    joined = live.join_realised(forecasts, realised, series["Date"])
    assert joined["Date"].tolist() == series["Date"].iloc[[0, 2, 3]].tolist()
    assert joined["target_date"].tolist() == series["Date"].iloc[[2, 4, 5]].tolist()
    assert joined["actual_close"].tolist() == [101.0, 104.0, 108.0]
    assert joined.attrs[live.MISSING_TARGETS] == 1


def test_live_mase_by_hand() -> None:
    realised = closes()
    forecasts = pd.DataFrame(
        {
            "Date": realised["Date"].iloc[:7],
            "Close": realised["Close"].iloc[:7],
            "horizon": 1,
            "forecast_close": realised["Close"].iloc[:7] + 1.0,
        }
    )
    result = live.live_performance(forecasts, realised)
    # naive errors |100-102|, |102-101|, |101-105|, |105-104|, |104-108|, |108-107|, |107-110|
    naive = [2, 1, 4, 1, 4, 1, 3]
    model = [1, 2, 3, 2, 3, 2, 2]
    assert result.naive_mae == pytest.approx(sum(naive) / 7)
    assert result.mase == pytest.approx(sum(model) / sum(naive))
    assert result.rows == 7
    assert result.versus_naive is not None


def test_forecasts_whose_target_is_not_known_yet_are_left_out() -> None:
    realised = closes()
    forecasts = pd.DataFrame(
        {
            "Date": realised["Date"].iloc[-2:],
            "Close": [107.0, 110.0],
            "horizon": 5,
            "forecast_close": [108.0, 111.0],
        }
    )
    assert live.join_realised(forecasts, realised).empty
    with pytest.raises(live.DataError, match="no forecast's target close"):
        live.live_performance(forecasts, realised)


def bars(closes_: list[float], start: str = "2025-01-06") -> pd.DataFrame:
    """A price table whose every bar opens, peaks, dips and closes at one price."""
    dates = pd.bdate_range(start, periods=len(closes_)).strftime("%Y-%m-%d")
    return pd.DataFrame(
        {"Date": dates, "Open": closes_, "High": closes_, "Low": closes_, "Close": closes_}
    )


def random_walk(days: int, seed: int = 0) -> list[float]:
    import numpy as np

    steps = np.random.default_rng(seed).normal(0.0, 1.0, days)
    return list(1000.0 + np.cumsum(steps))


def scored(prices: pd.DataFrame, offset: float) -> pd.DataFrame:
    """A score output's forecasts: the last close plus ``offset``, one day ahead."""
    return prices.assign(horizon=1, forecast_close=prices["Close"] + offset)


def test_a_forecaster_no_worse_than_naive_is_not_degraded() -> None:
    prices = bars(random_walk(80))
    check = live.live_check(scored(prices, 0.01), prices, 1.0, 0.05)
    assert check.metric == "live_mase"
    assert check.rows == 79  # the last forecast's close is not known yet
    assert check.value == pytest.approx(1.0, abs=0.05)
    assert not check.degraded


def test_a_forecaster_far_off_the_closes_is_degraded_with_its_p_value() -> None:
    prices = bars(random_walk(80))
    check = live.live_check(scored(prices, 5.0), prices, 1.0, 0.05)
    assert check.value > 3
    assert check.degraded
    assert check.p_value < 0.05
    assert "worse than naive" in check.summary


def test_live_performance_cannot_be_judged_before_any_target_is_known() -> None:
    from lifecycle.monitor.verdicts import UnjudgedError

    prices = bars(random_walk(10))
    later = bars(random_walk(5, seed=1), start="2026-01-05")
    with pytest.raises(UnjudgedError, match="no forecast's target"):
        live.live_check(scored(later, 0.0), prices, 1.0, 0.05)


def test_live_performance_needs_a_score_output() -> None:
    from lifecycle.errors import DataError

    prices = bars(random_walk(10))
    with pytest.raises(DataError, match="forecast_close"):
        live.live_check(prices, prices, 1.0, 0.05)


def test_a_batch_shorter_than_the_look_back_cannot_be_judged_for_drift() -> None:
    from lifecycle.monitor.verdicts import UnjudgedError

    with pytest.raises(UnjudgedError, match="look-back"):
        live.monitored_features(bars(random_walk(30)))
    features = live.monitored_features(bars(random_walk(100)))
    assert len(features) == 100 - 63
    assert not features.isna().any().any()


def test_the_batch_date_is_its_last_bar() -> None:
    prices = bars(random_walk(5))
    assert live.batch_date(prices) == pd.Timestamp("2025-01-10")


def test_forecasts_within_the_training_history_are_left_out() -> None:
    from lifecycle.monitor.verdicts import UnjudgedError

    prices = bars(random_walk(80))
    last_trained = pd.Timestamp(prices["Date"].iloc[49])
    check = live.live_check(scored(prices, 0.01), prices, 1.0, 0.05, last_trained)
    assert check.rows == 29  # origins 51..79, the last one's close not known yet
    assert check.metrics["live_in_sample_left_out"] == 50
    assert "(50 in-sample left out)" in check.summary
    with pytest.raises(UnjudgedError, match="none is out of sample"):
        live.live_check(scored(prices, 0.0), prices, 1.0, 0.05, pd.Timestamp("2030-01-01"))

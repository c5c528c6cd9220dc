"""Unit tests of the pure gold-price core on small in-memory tables: validation, the
no-look-ahead guarantee of the features and the backtest, the time split, hand-computed
metrics and the MASE gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gold_workflow import core


def prices_table(n: int, seed: int = 0, start: str = "2020-01-01") -> pd.DataFrame:
    """A validated OHLC table of ``n`` business days with a random-walk close."""
    rng = np.random.default_rng(seed)
    close = 1000.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n)))
    open_ = close * np.exp(rng.normal(0.0, 0.003, n))
    high = np.maximum(open_, close) * (1 + rng.uniform(0.0, 0.01, n))
    low = np.minimum(open_, close) * (1 - rng.uniform(0.0, 0.01, n))
    return pd.DataFrame(
        {
            "Date": pd.bdate_range(start, periods=n),
            "Open": open_,
            "High": high,
            "Low": low,
            "Close": close,
            "Volume": rng.integers(50_000, 100_000, n).astype(float),
        }
    )


def as_source_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as the loader sees it: strings, dates in the source format."""
    text = frame.copy()
    text["Date"] = frame["Date"].dt.strftime(core.SOURCE_DATE_FORMAT)
    return text.astype(str)


# --- validation -----------------------------------------------------------------------


def test_validation_parses_sorts_and_keeps_values() -> None:
    table = prices_table(10)
    shuffled = as_source_text(table).sample(frac=1.0, random_state=1)
    clean = core.validate_prices(shuffled)
    assert clean["Date"].is_monotonic_increasing
    np.testing.assert_allclose(clean["Close"], table["Close"], rtol=1e-12)
    assert clean["Date"].dtype == "datetime64[ns]"


def test_iso_dates_are_accepted_too() -> None:
    frame = as_source_text(prices_table(3))
    frame["Date"] = ["2024-01-02", "2024-01-03", "2024.01.04 00:00"]
    assert core.validate_prices(frame)["Date"].dt.day.tolist() == [2, 3, 4]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns=["Close"]), "missing column(s) Close"),
        (lambda f: f.iloc[0:0], "no rows"),
        (lambda f: f.assign(Date=["2024-13-45", *f["Date"][1:]]), "data row(s) [1]"),
        (lambda f: f.assign(Open=[*f["Open"][:2], "abc", *f["Open"][3:]]), "'Open' must hold"),
        (lambda f: f.assign(Low=[*f["Low"][:1], "-5", *f["Low"][2:]]), "'Low' must be positive"),
        (lambda f: f.assign(High=[*f["High"][:3], "1", *f["High"][4:]]), "inconsistent bar"),
        (lambda f: f.assign(Date=[f["Date"][1], *f["Date"][1:]]), "duplicate date"),
        (lambda f: f.assign(Volume=["-1", *f["Volume"][1:]]), "'Volume' is negative"),
    ],
    ids=["missing", "empty", "date", "numeric", "negative", "ohlc", "duplicate", "volume"],
)
def test_bad_tables_are_rejected_with_the_reason(mutate, message: str) -> None:
    frame = as_source_text(prices_table(6)).reset_index(drop=True)
    with pytest.raises(core.DataError) as caught:
        core.validate_prices(mutate(frame))
    assert message in str(caught.value)


def test_a_comma_separated_header_is_diagnosed() -> None:
    frame = pd.DataFrame({"Date,Open,High,Low,Close,Volume": ["2024-01-02,1,1,1,1,1"]})
    with pytest.raises(core.DataError, match="another separator than ';'"):
        core.validate_prices(frame)


def test_the_partial_last_bar_is_dropped_only_when_its_volume_is_low() -> None:
    table = prices_table(30)
    kept, dropped = core.drop_partial_last_bar(table)
    assert dropped is None
    assert len(kept) == 30
    partial = table.copy()
    partial.loc[29, "Volume"] = 0.1 * table["Volume"].median()
    kept, dropped = core.drop_partial_last_bar(partial)
    assert len(kept) == 29
    assert dropped == table["Date"].iloc[29].strftime("%Y-%m-%d")
    kept, dropped = core.drop_partial_last_bar(partial.drop(columns=["Volume"]))
    assert dropped is None
    assert len(kept) == 30


# --- features, target and the look-ahead guarantee --------------------------------------


def test_features_are_hand_checkable() -> None:
    table = prices_table(80)
    features = core.build_features(table)
    close = table["Close"]
    row = 70
    assert features["return_1d"][row] == pytest.approx(np.log(close[row] / close[row - 1]))
    assert features["return_63d"][row] == pytest.approx(np.log(close[row] / close[row - 63]))
    assert features["return_lag_2"][row] == pytest.approx(np.log(close[row - 2] / close[row - 3]))
    assert features["close_vs_mean_5d"][row] == pytest.approx(
        close[row] / close[row - 4 : row + 1].mean() - 1
    )
    assert features["gap_pct"][row] == pytest.approx(table["Open"][row] / close[row - 1] - 1)
    assert features["day_of_week"][row] == table["Date"][row].day_of_week
    assert features[list(core.NUMERIC_FEATURES)].iloc[: core.MIN_HISTORY - 1].isna().all().all()
    assert features[list(core.FEATURES)].iloc[core.MIN_HISTORY - 1 :].notna().all().all()


def test_no_feature_uses_rows_after_the_cut() -> None:
    table = prices_table(200)
    cut = 150
    perturbed = table.copy()
    rng = np.random.default_rng(7)
    later = perturbed.index > cut
    factor = np.exp(rng.normal(0, 0.2, later.sum()))
    for column in ("Open", "High", "Low", "Close"):
        perturbed.loc[later, column] *= factor
    perturbed.loc[later, "Volume"] = 1.0
    original = core.build_features(table).iloc[: cut + 1]
    changed = core.build_features(perturbed).iloc[: cut + 1]
    pd.testing.assert_frame_equal(original, changed)
    assert (
        not core.build_features(perturbed)
        .iloc[cut + 1 :]
        .equals(core.build_features(table).iloc[cut + 1 :])
    )


def test_the_target_is_the_future_log_return() -> None:
    close = pd.Series([100.0, 110.0, 121.0, 133.1])
    target = core.future_log_return(close, 2)
    assert target[0] == pytest.approx(np.log(1.21))
    assert target.iloc[2:].isna().all()


# --- split and backtest ---------------------------------------------------------------


def test_time_split_puts_every_training_row_before_every_backtest_row() -> None:
    table = prices_table(600)
    features = core.build_features(table)
    target = core.future_log_return(features["Close"], 5)
    split = core.time_split(features, target, 0.25)
    assert split.train_rows.max() < split.test_rows.min()
    assert len(split.test_rows) == int(np.ceil(0.25 * len(split.usable)))
    assert split.usable.min() == core.MIN_HISTORY - 1
    assert split.usable.max() == len(table) - 1 - 5  # the last 5 rows have no target yet


def test_time_split_refuses_a_backtest_that_leaves_too_little_training() -> None:
    features = core.build_features(prices_table(400))
    target = core.future_log_return(features["Close"], 1)
    with pytest.raises(core.ParameterError, match="backtest_fraction"):
        core.time_split(features, target, 0.5)


def test_a_history_too_short_for_any_split_blames_the_data_not_the_fraction() -> None:
    features = core.build_features(prices_table(200))
    target = core.future_log_return(features["Close"], 1)
    for fraction in (0.01, 0.3, 0.9):
        with pytest.raises(core.DataError) as caught:
            core.time_split(features, target, fraction)
        message = str(caught.value)
        assert "backtest_fraction" not in message
        assert "usable daily rows" in message
        assert "use a longer price history" in message
        assert "\n" not in message


def test_training_rows_only_include_targets_observed_by_the_origin() -> None:
    usable = np.arange(60, 100)
    rows = core.training_rows_before(usable, origin=90, horizon=5)
    assert rows.max() == 85
    assert (rows + 5 <= 90).all()


def backtest(table: pd.DataFrame, **overrides) -> core.Backtest:
    params = core.TrainParams(**{"backtest_fraction": 0.3, "refit_every": 10, **overrides})
    features = core.build_features(table)
    target = core.future_log_return(features["Close"], params.horizon)
    return core.walk_forward(params, features, target, core.time_split(features, target, 0.3))


@pytest.mark.parametrize("model", core.MODEL_KINDS)
def test_the_backtest_never_uses_rows_after_the_forecast_origin(model: str) -> None:
    table = prices_table(500, seed=3)
    result = backtest(table, model=model, horizon=3, n_estimators=20)
    origin_index = {date: i for i, date in enumerate(table["Date"])}
    cut = origin_index[result.forecasts["Date"].iloc[40]]
    perturbed = table.copy()
    later = perturbed.index > cut
    for column in ("Open", "High", "Low", "Close"):
        perturbed.loc[later, column] *= 1.5
    changed = backtest(perturbed, model=model, horizon=3, n_estimators=20)
    upto = result.forecasts["Date"] <= table["Date"][cut]
    np.testing.assert_allclose(
        result.forecasts.loc[upto, "forecast_close"], changed.forecasts.loc[upto, "forecast_close"]
    )
    assert not np.allclose(
        result.forecasts.loc[~upto, "forecast_close"],
        changed.forecasts.loc[~upto, "forecast_close"],
    )


def test_the_backtest_table_lines_up_origins_and_targets() -> None:
    table = prices_table(500)
    result = backtest(table, horizon=2)
    forecasts = result.forecasts
    assert result.refits == int(np.ceil(len(forecasts) / 10))
    positions = table.set_index("Date").index.get_indexer(forecasts["Date"])
    np.testing.assert_allclose(forecasts["last_close"], table["Close"].iloc[positions])
    np.testing.assert_allclose(forecasts["actual_close"], table["Close"].iloc[positions + 2])
    assert (forecasts["naive_close"] == forecasts["last_close"]).all()
    assert (forecasts["target_date"] > forecasts["Date"]).all()


def test_a_learnable_trend_beats_the_naive_forecast() -> None:
    table = prices_table(500)
    growth = np.exp(0.01 * np.arange(500))  # a steady 1% a day: the naive forecast lags
    for column in ("Open", "High", "Low", "Close"):
        table[column] = 1000.0 * growth * (table[column] / table["Close"])
    metrics = core.backtest_metrics(backtest(table).forecasts)
    assert metrics["backtest_mase"] < 0.1
    assert metrics["backtest_directional_accuracy"] == 1.0


# --- metrics and gate -----------------------------------------------------------------


def test_forecast_metrics_match_hand_computed_values() -> None:
    last = np.array([100.0, 100.0, 100.0, 100.0])
    actual = np.array([102.0, 98.0, 100.0, 101.0])
    forecast = np.array([101.0, 99.0, 101.0, 99.0])
    metrics = core.forecast_metrics(actual, forecast, last)
    # errors: -1, +1, +1, -2
    assert metrics["mae"] == pytest.approx(5 / 4)
    assert metrics["rmse"] == pytest.approx(np.sqrt(7 / 4))
    assert metrics["mape"] == pytest.approx(100 * (1 / 102 + 1 / 98 + 1 / 100 + 2 / 101) / 4)
    # moved: rows 0, 1, 3; forecast direction right on rows 0 and 1
    assert metrics["directional_accuracy"] == pytest.approx(2 / 3)


def test_backtest_metrics_compare_with_naive_by_hand() -> None:
    forecasts = pd.DataFrame(
        {
            "last_close": [100.0, 100.0, 100.0, 100.0],
            "actual_close": [102.0, 98.0, 100.0, 101.0],
            "forecast_close": [101.0, 99.0, 101.0, 99.0],
            "naive_close": [100.0, 100.0, 100.0, 100.0],
        }
    )
    metrics = core.backtest_metrics(forecasts)
    # naive errors: -2, +2, 0, -1 -> MAE 5/4, the same as the model's
    assert metrics["naive_mae"] == pytest.approx(5 / 4)
    assert metrics["naive_rmse"] == pytest.approx(np.sqrt(9 / 4))
    assert metrics["backtest_mase"] == pytest.approx(1.0)
    assert metrics["backtest_up_share"] == pytest.approx(2 / 3)


def test_gate_passes_at_or_below_the_threshold_and_compares_with_the_champion() -> None:
    from lifecycle.register.rule import ChampionState, Measurement, verdict

    gate = core.GateParams(max_mase=1.0)
    assert core.decide(gate, 1.0).passed
    failed = core.decide(gate, 1.02)
    assert not failed.passed
    assert "does NOT beat the naive" in failed.summary()
    assert "no model version registered" in failed.summary()
    days = core.measured_on("abc", 1, "2024-01-02", 250)
    champion = ChampionState("3", Measurement(0.99, days))
    strictly = core.promotion_rule(1.0, horizon=1)
    better = verdict(Measurement(0.97, days), champion, strictly)
    assert better.promote
    assert "becomes champion" in better.clause
    assert core.decide(gate, 0.995).passed
    worse = verdict(Measurement(0.995, days), champion, strictly)
    assert not worse.promote
    assert "champion kept" in worse.clause
    assert not core.decide(gate, float("nan")).passed


def _evidence(model_error: np.ndarray, naive_error: np.ndarray) -> pd.DataFrame:
    actual = np.full(len(model_error), 100.0)
    forecasts = pd.DataFrame(
        {
            "Date": pd.date_range("2024-01-01", periods=len(actual)).astype(str),
            "target_date": pd.date_range("2024-01-02", periods=len(actual)).astype(str),
            "last_close": actual,
            "actual_close": actual,
            "forecast_close": actual + model_error,
            "naive_close": actual + naive_error,
        }
    )
    return core.evidence_rows(forecasts)


def test_the_gate_fails_a_model_significantly_worse_than_naive_and_shows_the_p_value() -> None:
    rng = np.random.default_rng(0)
    naive_error = rng.normal(0, 1, 300)
    worse = _evidence(naive_error * 1.5, naive_error)
    versus = core.versus_naive(worse, horizon=1)
    assert versus.worse.p_value < 1e-6
    # Even a gate that would accept its MASE refuses it.
    decision = core.decide(core.GateParams(max_mase=2.0), 1.5, versus)
    assert not decision.passed
    assert "significantly worse than naive" in decision.text()
    assert "Diebold-Mariano against naive" in decision.text()


def test_a_model_not_significantly_better_than_naive_passes_and_says_so() -> None:
    rng = np.random.default_rng(1)
    naive_error = rng.normal(0, 1, 300)
    close = _evidence(naive_error * 0.999 + rng.normal(0, 0.01, 300), naive_error)
    versus = core.versus_naive(close, horizon=5)
    assert versus.better.p_value > 0.05
    assert versus.worse.p_value > 0.05
    decision = core.decide(core.GateParams(), 0.999, versus)
    assert decision.passed
    assert "not significantly different from naive" in decision.text()
    assert "p=" in decision.summary()


def test_evidence_rows_are_the_daily_absolute_errors() -> None:
    rows = _evidence(np.array([1.0, -2.0, 0.5]), np.array([0.0, 3.0, -1.0]))
    assert rows["loss"].tolist() == [1.0, 2.0, 0.5]
    assert rows["naive_loss"].tolist() == [0.0, 3.0, 1.0]
    assert rows["row_id"].tolist() == ["2024-01-01", "2024-01-02", "2024-01-03"]


def test_an_infinite_mase_fails_the_gate_and_is_said_as_such() -> None:
    decision = core.decide(core.GateParams(), float("inf"))
    assert not decision.passed
    assert "MASE is infinite" in decision.summary()
    assert "1797" not in decision.summary()
    assert len(decision.summary()) < 300


def test_backtest_days_differ_with_the_horizon_and_the_data() -> None:
    base = core.measured_on("abc", 1, "2024-01-02", 250)
    assert base != core.measured_on("abc", 5, "2024-01-02", 250)
    assert base != core.measured_on("abd", 1, "2024-01-02", 250)
    assert base != core.measured_on("abc", 1, "2024-01-03", 249)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("model", "arima"),
        ("horizon", 0),
        ("horizon", 64),
        ("horizon", 1.5),
        ("backtest_fraction", 0.0),
        ("backtest_fraction", 1.0),
        ("refit_every", 0),
        ("alpha", 0.0),
        ("learning_rate", 1.5),
        ("random_state", -1),
        ("n_estimators", True),
    ],
)
def test_bad_parameters_name_the_parameter(field: str, value: object) -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.TrainParams(**{field: value})
    assert caught.value.name == field


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_gate_thresholds_are_refused(value: float) -> None:
    with pytest.raises(core.ParameterError, match="max_mase"):
        core.GateParams(max_mase=value)

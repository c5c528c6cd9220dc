"""Unit tests of the served gold forecaster's input handling, on a model fitted to a
small synthetic history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from gold_workflow import core, serving
from tests.unit.test_gold_core import prices_table


@pytest.fixture(scope="module")
def fitted() -> tuple[object, pd.DataFrame]:
    table = prices_table(400)
    features = core.build_features(table)
    target = core.future_log_return(features["Close"], 1)
    return core.fit_final(core.TrainParams(), features, target), table


def window(table: pd.DataFrame, rows: int = core.MIN_HISTORY) -> pd.DataFrame:
    return serving.input_example(table.tail(rows))


def bars_at(frame: pd.DataFrame, row: int, price: float) -> pd.DataFrame:
    """Every price of one bar set to ``price``."""
    changed = frame.copy()
    for column in core.PRICE_COLUMNS:
        changed.loc[row, column] = price
    return changed


def shift_dates(frame: pd.DataFrame, years: int) -> pd.DataFrame:
    shifted = pd.to_datetime(frame["Date"]) + pd.DateOffset(years=years)
    return frame.assign(Date=shifted.dt.strftime("%Y-%m-%d"))


def test_the_input_example_forecasts_from_its_last_row(fitted) -> None:
    model, table = fitted
    answer = serving.forecast_from_window(model, 1, window(table))
    assert list(answer.columns) == [
        "Date",
        "Close",
        "horizon",
        "forecast_close",
        "forecast_log_return",
    ]
    assert answer["Date"].iloc[0] == table["Date"].iloc[-1].strftime("%Y-%m-%d")
    assert answer["Close"].iloc[0] == pytest.approx(table["Close"].iloc[-1])
    expected = core.forecast_close(model, core.build_features(table).tail(1))[0]
    assert answer["forecast_close"].iloc[0] == pytest.approx(expected)


def test_row_order_and_extra_history_do_not_change_the_forecast(fitted) -> None:
    model, table = fitted
    base = serving.forecast_from_window(model, 1, window(table))
    shuffled = window(table).sample(frac=1.0, random_state=3)
    longer = window(table, 200).drop(columns=["Volume"])
    for variant in (shuffled, longer):
        answer = serving.forecast_from_window(model, 1, variant)
        assert answer["forecast_close"].iloc[0] == pytest.approx(base["forecast_close"].iloc[0])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda w: w.tail(10), "too little history: 10 daily row(s)"),
        (
            lambda w: w.assign(Close=np.where(w.index == 5, -1.0, w["Close"])),
            "row 5: Close is -1, outside the plausible range",
        ),
        (
            lambda w: w.assign(Date=w["Date"].where(w.index != 7, "soon")),
            "row 7: Date 'soon' is not a date",
        ),
        (lambda w: w.assign(Date=w["Date"].where(w.index != 7, w["Date"][6])), "duplicate"),
        (lambda w: bars_at(w, 5, 1e-300), "is 1e-300, outside the plausible range 1 to 1e+06"),
        (lambda w: bars_at(w, 5, 1e300), "is 1e+300, outside the plausible range 1 to 1e+06"),
        (lambda w: shift_dates(w, years=40), "is implausible: dates must lie between 1950-01-01"),
        (lambda w: shift_dates(w, years=-90), "is implausible: dates must lie between"),
        (lambda w: w.drop(index=range(20, 40)), "the bars must be consecutive trading days"),
    ],
    ids=["short", "negative", "date", "duplicate", "tiny", "huge", "future", "past", "gap"],
)
def test_bad_windows_raise_a_400_class_error_naming_the_problem(fitted, mutate, message) -> None:
    model, table = fitted
    forecaster = serving.GoldForecaster(model, 1)
    with pytest.raises(MlflowException) as caught:
        forecaster.predict(None, mutate(window(table)))
    assert message in caught.value.message
    assert caught.value.get_http_status_code() == 400


def test_the_signature_requires_dates_and_prices_and_allows_volume() -> None:
    inputs = {spec.name: spec for spec in serving.signature().inputs.inputs}
    assert set(inputs) == {"Date", "Open", "High", "Low", "Close", "Volume"}
    assert not inputs["Volume"].required
    assert all(inputs[name].required for name in ("Date", "Open", "High", "Low", "Close"))

"""The time split and the walk-forward backtest: every backtest forecast comes from a
model trained only on targets already observed at its forecast date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gold_workflow.params import TrainParams
from gold_workflow.regressors import build_regressor, forecast_close
from gold_workflow.schema import DATE, FEATURES, MIN_TRAIN_ROWS, NUMERIC_FEATURES
from lifecycle import stop
from lifecycle.errors import DataError, ParameterError

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


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
        stop.point()  # a safe point per fold: a stop asked for is acted on here
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

"""The regressors (scikit-learn pipelines), and the close they forecast: the last
close times ``exp`` of the predicted log return.

scikit-learn is imported inside the functions that build a model: the register step and
parameter validation never pay for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from gold_workflow.params import TrainParams
from gold_workflow.schema import CALENDAR_FEATURES, FEATURES, NUMERIC_FEATURES

if TYPE_CHECKING:
    from sklearn.base import RegressorMixin
    from sklearn.pipeline import Pipeline


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

"""The gold-price forecaster's modelling, in one namespace.

Each topic has a module of its own: ``schema`` (columns, features, limits), ``params``
(validated parameters), ``table`` (the OHLC table and served windows), ``features``
(leak-free features and the target), ``regressors`` (the models and the forecast close),
``backtest`` (the time split and the walk-forward backtest) and ``gate`` (metrics
against the naive forecast, and the gate). This module gathers their names for the
steps, the served model and the tests. Nothing here reads files, talks to MLflow or
prints.
"""

from __future__ import annotations

from gold_workflow.backtest import (
    Backtest,
    TimeSplit,
    fit_final,
    time_split,
    training_rows_before,
    walk_forward,
)
from gold_workflow.features import (
    build_features,
    future_log_return,
)
from gold_workflow.gate import (
    MIN_SHARED_DAYS,
    GateDecision,
    VersusNaive,
    backtest_metrics,
    bar_digests,
    decide,
    evidence_rows,
    forecast_metrics,
    measured_on,
    naive_test_metrics,
    out_of_time_evidence,
    promotion_rule,
    verdict_against_naive,
    versus_naive,
)
from gold_workflow.params import (
    GateParams,
    TrainParams,
)
from gold_workflow.regressors import (
    build_regressor,
    forecast_close,
)
from gold_workflow.schema import (
    AVERAGE_WINDOWS,
    CALENDAR_FEATURES,
    DATE,
    FEATURES,
    MAX_HORIZON,
    MAX_RANDOM_STATE,
    MIN_HISTORY,
    MIN_TRAIN_ROWS,
    MODEL_KINDS,
    NUMERIC_FEATURES,
    PARTIAL_BAR_REFERENCE_ROWS,
    PARTIAL_BAR_VOLUME_RATIO,
    PRICE_COLUMNS,
    REQUIRED_COLUMNS,
    RETURN_LAGS,
    RETURN_WINDOWS,
    SOURCE_DATE_FORMAT,
    VOLATILITY_WINDOWS,
    VOLUME,
)
from gold_workflow.table import (
    EARLIEST_DATE,
    MAX_DAYS_AHEAD,
    MAX_GAP_DAYS,
    PLAUSIBLE_PRICE,
    check_plausible_window,
    cut_at,
    drop_partial_last_bar,
    parse_dates,
    validate_prices,
)
from lifecycle.errors import DataError, ParameterError

__all__ = [
    "AVERAGE_WINDOWS",
    "CALENDAR_FEATURES",
    "DATE",
    "EARLIEST_DATE",
    "FEATURES",
    "MAX_DAYS_AHEAD",
    "MAX_GAP_DAYS",
    "MAX_HORIZON",
    "MAX_RANDOM_STATE",
    "MIN_HISTORY",
    "MIN_SHARED_DAYS",
    "MIN_TRAIN_ROWS",
    "MODEL_KINDS",
    "NUMERIC_FEATURES",
    "PARTIAL_BAR_REFERENCE_ROWS",
    "PARTIAL_BAR_VOLUME_RATIO",
    "PLAUSIBLE_PRICE",
    "PRICE_COLUMNS",
    "REQUIRED_COLUMNS",
    "RETURN_LAGS",
    "RETURN_WINDOWS",
    "SOURCE_DATE_FORMAT",
    "VOLATILITY_WINDOWS",
    "VOLUME",
    "Backtest",
    "DataError",
    "GateDecision",
    "GateParams",
    "ParameterError",
    "TimeSplit",
    "TrainParams",
    "VersusNaive",
    "backtest_metrics",
    "bar_digests",
    "build_features",
    "build_regressor",
    "check_plausible_window",
    "cut_at",
    "decide",
    "drop_partial_last_bar",
    "evidence_rows",
    "fit_final",
    "forecast_close",
    "forecast_metrics",
    "future_log_return",
    "measured_on",
    "naive_test_metrics",
    "out_of_time_evidence",
    "parse_dates",
    "promotion_rule",
    "time_split",
    "training_rows_before",
    "validate_prices",
    "verdict_against_naive",
    "versus_naive",
    "walk_forward",
]

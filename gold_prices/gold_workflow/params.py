"""The forecaster's parameters (``TrainParams``) and its gate's (``GateParams``),
validated when constructed: a value outside its type or range raises
``ParameterError`` naming it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gold_workflow.schema import MAX_HORIZON, MAX_RANDOM_STATE, MODEL_KINDS
from lifecycle.errors import ParameterError, require_int


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
        require_int("horizon", self.horizon, 1, MAX_HORIZON)
        _require_float("backtest_fraction", self.backtest_fraction, 0.0, 1.0, high_open=True)
        require_int("refit_every", self.refit_every, 1, 10_000)
        _require_float("alpha", self.alpha, 0.0, 1e6, high_open=False)
        require_int("n_estimators", self.n_estimators, 1, 5_000)
        _require_float("learning_rate", self.learning_rate, 0.0, 1.0, high_open=False)
        require_int("max_depth", self.max_depth, 1, 20)
        require_int("random_state", self.random_state, 0, MAX_RANDOM_STATE)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateParams:
    """The registration gate: the highest backtest MASE a model may have (1.0 = naive)."""

    max_mase: float = 1.0

    def __post_init__(self) -> None:
        _require_float("max_mase", self.max_mase, 0.0, 100.0, high_open=False)

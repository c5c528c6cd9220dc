"""The gold tuning grid, pure: the configurations a study may try (each a full
``TrainParams``), the walk-forward backtest MASE that scores one, and the choice of the
best. Nothing here talks to MLflow, Optuna or Spark (``gold_workflow.study`` does)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gold_workflow.backtest import TimeSplit, walk_forward
from gold_workflow.gate import backtest_metrics
from gold_workflow.params import TrainParams
from gold_workflow.schema import MODEL_KINDS
from lifecycle.errors import ParameterError

ENGINES = ("local", "spark")
MAX_TRIALS = 1000
DEFAULT_MODELS = "linear_regression,ridge,gradient_boosting"
DEFAULT_ALPHA_GRID = "0.01,0.1,1,10,100,1000,10000"
DEFAULT_N_ESTIMATORS_GRID = "100,300"
DEFAULT_LEARNING_RATE_GRID = "0.03,0.1"
DEFAULT_MAX_DEPTH_GRID = "2,3"


def parse_values(name: str, text: str, kind: type) -> tuple:
    """``"0.1,1,10"`` as sorted distinct values of ``kind`` (int or float)."""
    values = set()
    for piece in (p.strip() for p in str(text).split(",")):
        if not piece:
            continue
        try:
            number = kind(piece)
        except ValueError:
            raise ParameterError(name, text, f"{piece!r} is not a {kind.__name__}") from None
        if isinstance(number, float) and not math.isfinite(number):
            raise ParameterError(name, text, f"{piece!r} is not a finite number")
        values.add(number)
    if not values:
        raise ParameterError(name, text, "give at least one value, comma-separated")
    return tuple(sorted(values))


@dataclass(frozen=True)
class SearchSpace:
    """The grid: the model kinds and, per kind, the values of its own hyperparameters.
    Every configuration is validated as a ``TrainParams`` when the space is built."""

    base: TrainParams
    models: tuple[str, ...]
    alphas: tuple[float, ...]
    n_estimators: tuple[int, ...]
    learning_rates: tuple[float, ...]
    max_depths: tuple[int, ...]

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in MODEL_KINDS]
        if unknown or not self.models:
            raise ParameterError(
                "models", ",".join(self.models), f"each one of {', '.join(MODEL_KINDS)}"
            )
        self.configurations()  # every value checked by TrainParams

    def configurations(self) -> list[TrainParams]:
        """Every configuration of the grid, in a fixed order (its index is its id)."""
        grid: list[TrainParams] = []
        for model in sorted(self.models):
            if model == "ridge":
                grid += [replace(self.base, model=model, alpha=a) for a in self.alphas]
            elif model == "gradient_boosting":
                grid += [
                    replace(
                        self.base,
                        model=model,
                        n_estimators=n,
                        learning_rate=rate,
                        max_depth=depth,
                    )
                    for n in self.n_estimators
                    for rate in self.learning_rates
                    for depth in self.max_depths
                ]
            else:
                grid.append(replace(self.base, model=model))
        return grid


@dataclass(frozen=True)
class TuneParams:
    """A tuning job: the grid, how many trials to run now, where, and the study's name."""

    space: SearchSpace
    trials: int = 16
    engine: str = "local"
    spark_master: str = "local[*]"
    study_name: str = ""

    def __post_init__(self) -> None:
        from lifecycle.scoring import SPARK_MASTER

        if isinstance(self.trials, bool) or not 1 <= int(self.trials) <= MAX_TRIALS:
            raise ParameterError("trials", self.trials, f"an integer from 1 to {MAX_TRIALS}")
        if self.engine not in ENGINES:
            raise ParameterError("engine", self.engine, f"one of {', '.join(ENGINES)}")
        if not SPARK_MASTER.fullmatch(self.spark_master):
            raise ParameterError(
                "spark_master", self.spark_master, "local[*], local[N], spark://…, yarn or k8s://…"
            )
        if self.study_name and not all(c.isalnum() or c in "-_." for c in self.study_name):
            raise ParameterError(
                "study_name", self.study_name, "letters, digits, '-', '_' and '.' only"
            )


def backtest_mase(
    params: TrainParams, features: pd.DataFrame, target: pd.Series, split: TimeSplit
) -> dict[str, float]:
    """The walk-forward backtest of one configuration: its metrics (MASE first)."""
    return backtest_metrics(walk_forward(params, features, target, split).forecasts)


def best_trial(scored: list[tuple[int, float]]) -> tuple[int, float]:
    """(configuration id, MASE) with the lowest finite MASE; ties go to the lower id, so
    the choice never depends on the order trials finished in."""
    finite = [(index, value) for index, value in scored if np.isfinite(value)]
    if not finite:
        raise ValueError("no trial finished with a finite backtest MASE")
    return min(finite, key=lambda item: (round(item[1], 12), item[0]))

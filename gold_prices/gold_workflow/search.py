"""The gold tuning grid, pure: the configurations a study may try (each a full
``TrainParams``), the walk-forward backtest MASE that scores one, and the choice of the
best. Nothing here talks to MLflow, Optuna or Spark (``gold_workflow.study`` does)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from gold_workflow.backtest import TimeSplit, walk_forward
from gold_workflow.gate import backtest_metrics
from gold_workflow.params import TrainParams, TuneParams
from gold_workflow.params import parse_values as parse_values
from gold_workflow.schema import MODEL_KINDS
from lifecycle.engines import LOCAL, SPARK, canonical
from lifecycle.errors import ParameterError


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
class TuneJob:
    """A tuning job: the grid, how many trials to run now, where, and the study's name."""

    space: SearchSpace
    trials: int = 16
    engine: str = LOCAL
    spark_master: str = "local[*]"
    study_name: str = ""

    @property
    def on_spark(self) -> bool:
        return canonical(self.engine) == SPARK


def tune_job(tune: TuneParams) -> TuneJob:
    """The job ``tune``'s declared parameters describe; every configuration of its grid
    is validated as a ``TrainParams`` (``ParameterError`` names the value refused)."""
    base = TrainParams(
        horizon=tune.horizon,
        backtest_fraction=tune.backtest_fraction,
        refit_every=tune.refit_every,
        random_state=tune.random_state,
    )
    space = SearchSpace(
        base=base,
        models=tune.model_kinds,
        alphas=tune.alphas,
        n_estimators=tune.n_estimators,
        learning_rates=tune.learning_rates,
        max_depths=tune.max_depths,
    )
    return TuneJob(
        space=space,
        trials=tune.trials,
        engine=tune.engine,
        spark_master=tune.spark_master,
        study_name=tune.study_name,
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

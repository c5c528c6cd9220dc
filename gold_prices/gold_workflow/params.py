"""The gold_prices entry points and their parameters, each declared once (``PROJECT``).

The click options, the ``MLproject`` and the README's parameter tables are made from
these declarations (``lifecycle.params``; ``python -m lifecycle.sync`` writes the
files). Constructing a class validates every field. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from gold_workflow.schema import MAX_HORIZON, MODEL_KINDS
from lifecycle.engines import EngineParams
from lifecycle.errors import ParameterError
from lifecycle.io.datasets import PinnedFile
from lifecycle.monitor.params import monitor_entry_point
from lifecycle.params import (
    MAX_SEED,
    Declared,
    EntryPoint,
    ProjectDeclaration,
    evaluate_entry_point,
    param,
)
from lifecycle.register.params import register_entry_point
from lifecycle.score.params import score_entry_point

MAX_TRIALS = 1000
VALUES = "comma-separated values"


PRICES = PinnedFile(
    dataset="gold_prices",
    filename="XAU_1d_data.csv",
    url="https://raw.githubusercontent.com/turelit/mlflow_demo/"
    "f3d97fea52ce354e51de248f38d51eab5db50953/datasets/XAU_1d_data.csv",
    sha256="e9de048838c5c846b613df86ab10b91e081189d2af2a7210e324a727e02a8e33",
    size=289_359,
)


@dataclass(frozen=True)
class BacktestParams(Declared):
    """The walk-forward backtest every configuration is scored by, and the seed."""

    horizon: int = param(1, help="trading days ahead to forecast", low=1, high=MAX_HORIZON)
    backtest_fraction: float = param(
        0.2,
        help="the final share of the history forecast walk-forward",
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        allowed="at least 250 training rows must remain",
    )
    refit_every: int = param(
        21, help="backtest origins between refits of the walk-forward model", low=1, high=10_000
    )
    random_state: int = param(
        42, help="the seed (ridge solver, gradient_boosting)", low=0, high=MAX_SEED
    )


@dataclass(frozen=True)
class TrainParams(BacktestParams):
    """The forecasting recipe of one training run; constructing it validates every field."""

    model: str = param("linear_regression", help="the regressor", choices=MODEL_KINDS)
    alpha: float = param(
        1.0, help="the regularisation strength (ridge)", low=0.0, high=1e6, low_open=True
    )
    n_estimators: int = param(
        100, help="boosting iterations (gradient_boosting)", low=1, high=5_000
    )
    learning_rate: float = param(
        0.05, help="the shrinkage (gradient_boosting)", low=0.0, high=1.0, low_open=True
    )
    max_depth: int = param(3, help="the tree depth (gradient_boosting)", low=1, high=20)


@dataclass(frozen=True)
class DataParams(Declared):
    """The price file ``train`` and ``tune`` read (the pinned copy unless one is given),
    and the date the history is cut at."""

    data_path: str = param(
        "",
        help="the ';'-separated OHLC file",
        allowed="empty: the pinned, sha256-verified copy; relative paths are resolved "
        "against the repository root",
    )
    datasets_mirror: str = param(
        "",
        help="a directory holding gold_prices/XAU_1d_data.csv, for machines without internet",
        allowed="empty: $DATASETS_MIRROR",
    )
    cutoff_date: str = param(
        "",
        help="the last date of the history to train on: later bars are left for scoring "
        "and monitoring",
        pattern=r"(\d{4}-\d{2}-\d{2})?",
        allowed="YYYY-MM-DD; empty: the whole history",
    )

    def check(self) -> None:
        if self.cutoff_date:
            try:
                date.fromisoformat(self.cutoff_date)
            except ValueError:
                raise ParameterError(
                    "cutoff_date", self.cutoff_date, "is not a calendar date (YYYY-MM-DD)"
                ) from None


def parse_values(name: str, text: str, kind: type) -> tuple:  # type: ignore[type-arg]
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
class TuneParams(EngineParams, BacktestParams):
    """A tuning job: the grid (model kinds and each kind's values, parsed into the fields
    after them), how many trials to run now, where, and the study's name."""

    trials: int = param(16, help="configurations to try now", low=1, high=MAX_TRIALS)
    study_name: str = param(
        "",
        help="the study to create or resume",
        pattern=r"[A-Za-z0-9._-]*",
        allowed="letters, digits, '-', '_' and '.'; empty names a new one",
    )
    models: str = param(
        "linear_regression,ridge,gradient_boosting",
        help="the model kinds to try",
        allowed="comma-separated, each one of " + ", ".join(MODEL_KINDS),
    )
    alpha_grid: str = param("0.01,0.1,1,10,100,1000,10000", help="ridge alphas", allowed=VALUES)
    n_estimators_grid: str = param("100,300", help="gradient_boosting iterations", allowed=VALUES)
    learning_rate_grid: str = param("0.03,0.1", help="gradient_boosting shrinkages", allowed=VALUES)
    max_depth_grid: str = param("2,3", help="gradient_boosting tree depths", allowed=VALUES)
    model_kinds: tuple[str, ...] = field(init=False, default=())
    alphas: tuple[float, ...] = field(init=False, default=())
    n_estimators: tuple[int, ...] = field(init=False, default=())
    learning_rates: tuple[float, ...] = field(init=False, default=())
    max_depths: tuple[int, ...] = field(init=False, default=())

    def check(self) -> None:
        kinds = tuple(m.strip() for m in self.models.split(",") if m.strip())
        unknown = [m for m in kinds if m not in MODEL_KINDS]
        if unknown or not kinds:
            raise ParameterError("models", self.models, f"each one of {', '.join(MODEL_KINDS)}")
        object.__setattr__(self, "model_kinds", kinds)
        object.__setattr__(self, "alphas", parse_values("alpha_grid", self.alpha_grid, float))
        object.__setattr__(
            self, "n_estimators", parse_values("n_estimators_grid", self.n_estimators_grid, int)
        )
        object.__setattr__(
            self,
            "learning_rates",
            parse_values("learning_rate_grid", self.learning_rate_grid, float),
        )
        object.__setattr__(
            self, "max_depths", parse_values("max_depth_grid", self.max_depth_grid, int)
        )


@dataclass(frozen=True)
class GateParams(Declared):
    """The registration gate: the highest backtest MASE a model may have (1.0 = naive),
    and the level at which a Diebold-Mariano test finding the model worse than the naive
    forecast fails it."""

    max_mase: float = param(
        1.0,
        help="the highest backtest MASE the gate accepts; 1.0 means no worse than naive",
        low=0.0,
        high=100.0,
        low_open=True,
    )
    naive_alpha: float = param(
        0.05,
        help="a model worse than the naive forecast by the one-sided DM test at this level fails",
        low=0.0,
        high=0.5,
        low_open=True,
        name="gate_naive_alpha",
    )


PROJECT = ProjectDeclaration(
    name="gold_prices",
    package="gold_workflow",
    summary="The gold price forecaster: train -> evaluate -> register, each an entry point "
    "of its own.\nAn empty data_path means the pinned copy of XAU_1d_data.csv (fetched, or "
    "read from\ndatasets_mirror / $DATASETS_MIRROR, and verified by sha256).",
    entry_points=(
        EntryPoint(
            command="train",
            help="Backtest the forecaster walk-forward, fit it on all history, log it; print "
            "the run id.",
            declared=(TrainParams, DataParams),
            aliases=("main",),
        ),
        EntryPoint(
            command="tune",
            help="An Optuna study over the grid, scored by the walk-forward backtest MASE "
            "(resumable by study_name); the best configuration is logged as train logs a "
            "model.",
            declared=(TuneParams, DataParams),
        ),
        evaluate_entry_point(
            "Re-score the model's walk-forward backtest and check the packaged model answers."
        ),
        register_entry_point(
            "gold_prices",
            GateParams,
            "Register the model if its MASE passes the gate; move champion if it is better.",
        ),
        score_entry_point("gold_prices"),
        monitor_entry_point("gold_prices"),
    ),
    datasets=(PRICES,),
)

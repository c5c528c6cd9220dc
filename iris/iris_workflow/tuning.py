"""Pure grid search for the iris decision tree: the grid, each configuration's scores,
and the choice of the best one.

Every configuration is scored by stratified k-fold cross-validation on the training split
(the score the choice is made on) and, refitted on the whole training split, on the
held-out split (the score reported). Choosing on the held-out split would make its score
an optimistic estimate. Nothing here reads files or talks to MLflow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from iris_workflow.core import FEATURES, TARGET, ParameterError
from iris_workflow.params import MAX_CV_FOLDS as MAX_CV_FOLDS
from iris_workflow.params import TuneParams as TuneParams
from iris_workflow.params import parse_grid as parse_grid
from lifecycle import stop


@dataclass(frozen=True)
class ConfigResult:
    """One configuration's scores: the cross-validated choice score and the held-out ones."""

    max_leaf_nodes: int
    max_depth: int
    cv_accuracy: float
    cv_accuracy_std: float
    test_accuracy: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stratified_folds(labels: np.ndarray, folds: int, random_state: int) -> list[np.ndarray]:
    """Validation index sets of a shuffled stratified k-fold split of ``labels``."""
    from sklearn.model_selection import StratifiedKFold

    smallest = int(pd.Series(labels).value_counts().min())
    if smallest < folds:
        raise ParameterError(
            "cv_folds",
            folds,
            f"the smallest class has {smallest} training rows; use at most {smallest} folds",
        )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    return [validation for _, validation in splitter.split(np.zeros(len(labels)), labels)]


@dataclass(frozen=True)
class GridData:
    """What scoring a configuration needs: the splits as arrays and the CV folds."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    masks: list[np.ndarray]  # per fold: True for the rows the fold trains on
    random_state: int


def grid_data(params: TuneParams, train: pd.DataFrame, test: pd.DataFrame) -> GridData:
    """The arrays and the folds every configuration is scored on (the same for each)."""
    features = list(FEATURES)
    y_train = train[TARGET].to_numpy()
    masks = []
    for validation in stratified_folds(y_train, params.cv_folds, params.random_state):
        mask = np.ones(len(y_train), dtype=bool)
        mask[validation] = False
        masks.append(mask)
    return GridData(
        train[features].to_numpy(),
        y_train,
        test[features].to_numpy(),
        test[TARGET].to_numpy(),
        masks,
        params.random_state,
    )


def score_configuration(data: GridData, configuration: tuple[int, int]) -> ConfigResult:
    """One configuration's cross-validated and held-out accuracy; seeds explicit."""
    from sklearn.tree import DecisionTreeClassifier

    leaves, depth = configuration

    def tree() -> DecisionTreeClassifier:
        return DecisionTreeClassifier(
            max_leaf_nodes=leaves, max_depth=depth, random_state=data.random_state
        )

    fold_scores = []
    for mask in data.masks:
        fitted = tree().fit(data.x_train[mask], data.y_train[mask])
        fold_scores.append(
            float(np.mean(fitted.predict(data.x_train[~mask]) == data.y_train[~mask]))
        )
    fitted = tree().fit(data.x_train, data.y_train)
    return ConfigResult(
        max_leaf_nodes=leaves,
        max_depth=depth,
        cv_accuracy=float(np.mean(fold_scores)),
        cv_accuracy_std=float(np.std(fold_scores)),
        test_accuracy=float(np.mean(fitted.predict(data.x_test) == data.y_test)),
    )


def score_grid(
    params: TuneParams,
    train: pd.DataFrame,
    test: pd.DataFrame,
    done: Callable[[int], None] | None = None,
) -> list[ConfigResult]:
    """Score every configuration of the grid, in grid order: in this process, or as
    Spark tasks (``engine=spark``), which give the same results. ``done`` hears how many
    configurations are scored so far."""
    data = grid_data(params, train, test)
    if params.on_spark:
        from functools import partial

        from lifecycle.spark.session import parallel_map

        return parallel_map(
            params.spark_master,
            "iris-tune",
            partial(score_configuration, data),
            params.configurations(),
            packages=("iris_workflow",),
            done=done,
        )
    results = []
    for configuration in params.configurations():
        stop.point()  # a safe point per configuration
        results.append(score_configuration(data, configuration))
        if done is not None:
            done(len(results))
    return results


def best_config(results: list[ConfigResult]) -> ConfigResult:
    """Highest cross-validated accuracy; ties go to the simpler tree (fewer leaves, then
    shallower), so the choice never depends on the held-out split or on grid order."""
    if not results:
        raise ValueError("no configurations were scored")
    return min(results, key=lambda r: (-round(r.cv_accuracy, 12), r.max_leaf_nodes, r.max_depth))


def results_frame(results: list[ConfigResult]) -> pd.DataFrame:
    """One row per configuration, in grid order, with a ``rank`` by the choice rule."""
    frame = pd.DataFrame([result.as_dict() for result in results])
    order = sorted(
        range(len(results)),
        key=lambda i: (
            -round(results[i].cv_accuracy, 12),
            results[i].max_leaf_nodes,
            results[i].max_depth,
        ),
    )
    ranks = np.empty(len(results), dtype=int)
    ranks[order] = np.arange(1, len(results) + 1)
    frame["rank"] = ranks
    return frame

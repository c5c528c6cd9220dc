"""The iris entry points and their parameters, each declared once (``PROJECT``).

The click options, the ``MLproject`` and the README's parameter tables are made from
these declarations (``lifecycle.params``; ``python -m lifecycle.sync`` writes the
files). Constructing a class validates every field. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lifecycle.engines import EngineParams
from lifecycle.errors import ParameterError
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

MODEL_KINDS: tuple[str, ...] = ("decision_tree", "logistic_regression", "random_forest")
GATE_METRICS: tuple[str, ...] = ("accuracy", "precision_weighted", "recall_weighted", "f1_weighted")
MAX_TREE_SIZE = 10_000  # depth, leaves and trees: far beyond what 150 rows can use
MAX_CONFIGURATIONS = 100_000
MAX_CV_FOLDS = 20
MAX_CV_REPEATS = 100
DEFAULT_DATA_PATH = "datasets/iris.csv"
_RANGE = re.compile(r"^(-?\d+)\s*\.\.\s*(-?\d+)$")
GRID = "a range a..b, a list 2,4,8, or both (2..5,8)"


@dataclass(frozen=True)
class SplitParams(Declared):
    """The held-out split, and the seed of the split, the folds and the models."""

    test_size: float = param(
        0.3,
        help="the held-out fraction: a row is held out when its hash falls below it",
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
        allowed="each class on both sides",
    )
    random_state: int = param(
        42, help="the seed of the folds and the models (not the split)", low=0, high=MAX_SEED
    )


@dataclass(frozen=True)
class TrainParams(SplitParams):
    """Hyper-parameters of one training run; constructing it validates every field."""

    model: str = param("decision_tree", help="the classifier", choices=MODEL_KINDS)
    max_depth: int = param(
        5, help="the tree depth limit (decision_tree, random_forest)", low=1, high=MAX_TREE_SIZE
    )
    max_leaf_nodes: int = param(
        10, help="the leaf limit per tree (decision_tree, random_forest)", low=2, high=MAX_TREE_SIZE
    )
    C: float = param(
        1.0,
        help="the inverse regularisation strength (logistic_regression)",
        low=0.0,
        low_open=True,
    )
    n_estimators: int = param(
        100, help="the number of trees (random_forest)", low=1, high=MAX_TREE_SIZE
    )
    cv_folds: int = param(
        5,
        help="the folds of the repeated cross-validation on the whole table",
        low=2,
        high=MAX_CV_FOLDS,
        allowed="at most the smallest class's rows",
    )
    cv_repeats: int = param(
        10, help="the repetitions of that cross-validation", low=1, high=MAX_CV_REPEATS
    )


@dataclass(frozen=True)
class DataParams(Declared):
    """The data file ``train`` and ``tune`` read."""

    data_path: str = param(
        DEFAULT_DATA_PATH,
        help="the iris table",
        nonempty=True,
        allowed="a CSV file; relative paths are resolved against the repository root",
    )


def parse_grid(name: str, text: str, minimum: int) -> tuple[int, ...]:
    """Grid values from ``"2..11"`` (inclusive range), ``"2,4,8"`` or a mix (``"1..3,8"``),
    sorted and de-duplicated; each must be an integer from ``minimum`` to 10000."""
    values: set[int] = set()
    pieces = [piece.strip() for piece in str(text).split(",")]
    if not any(pieces):
        raise ParameterError(name, text, "give values like 2..11 or 2,4,8")
    for piece in pieces:
        if not piece:
            continue
        span = _RANGE.match(piece)
        if span:
            low, high = int(span.group(1)), int(span.group(2))
            if low > high:
                raise ParameterError(
                    name, text, f"range {piece} runs backwards; write {high}..{low}"
                )
            values.update(range(low, high + 1))
        elif re.fullmatch(r"-?\d+", piece):
            values.add(int(piece))
        else:
            raise ParameterError(name, text, f"{piece!r} is not an integer or a range like 2..11")
    out_of_range = sorted(value for value in values if not minimum <= value <= MAX_TREE_SIZE)
    if out_of_range:
        raise ParameterError(
            name,
            text,
            f"every value must be an integer in [{minimum}, {MAX_TREE_SIZE}]; "
            f"got {', '.join(map(str, out_of_range[:5]))}",
        )
    return tuple(sorted(values))


@dataclass(frozen=True)
class TuneParams(EngineParams, SplitParams):
    """A grid search over the decision tree's max_leaf_nodes x max_depth; validated, with
    the grids parsed into ``max_leaf_nodes`` and ``max_depth``."""

    max_leaf_nodes_grid: str = param(
        "2..11", help="the max_leaf_nodes values", allowed=f"{GRID}; each value 2 to 10000"
    )
    max_depth_grid: str = param(
        "1..10", help="the max_depth values", allowed=f"{GRID}; each value 1 to 10000"
    )
    cv_folds: int = param(
        5,
        help="the cross-validation folds on the training split",
        low=2,
        high=MAX_CV_FOLDS,
        allowed="at most the smallest class's training rows",
    )
    max_leaf_nodes: tuple[int, ...] = field(init=False, default=())
    max_depth: tuple[int, ...] = field(init=False, default=())

    def check(self) -> None:
        leaves = parse_grid("max_leaf_nodes_grid", self.max_leaf_nodes_grid, 2)
        depths = parse_grid("max_depth_grid", self.max_depth_grid, 1)
        object.__setattr__(self, "max_leaf_nodes", leaves)
        object.__setattr__(self, "max_depth", depths)
        if self.size > MAX_CONFIGURATIONS:
            raise ParameterError(
                "grid",
                f"{len(leaves)} x {len(depths)}",
                f"makes {self.size} configurations; at most {MAX_CONFIGURATIONS} are allowed",
                options=("max_leaf_nodes_grid", "max_depth_grid"),
            )

    @property
    def size(self) -> int:
        return len(self.max_leaf_nodes) * len(self.max_depth)

    def configurations(self) -> list[tuple[int, int]]:
        """(max_leaf_nodes, max_depth) pairs, leaves major."""
        return [(leaves, depth) for leaves in self.max_leaf_nodes for depth in self.max_depth]


@dataclass(frozen=True)
class GateParams(Declared):
    """The registration gate: a held-out metric and the minimum value it must reach."""

    metric: str = param(
        "accuracy",
        help="the held-out metric the gate checks",
        choices=GATE_METRICS,
        name="gate_metric",
    )
    threshold: float = param(
        0.9, help="the lowest value of the gate metric", low=0.0, high=1.0, name="gate_threshold"
    )


PROJECT = ProjectDeclaration(
    name="iris",
    package="iris_workflow",
    summary="The iris classifier: train -> evaluate -> register, each an entry point of its own.",
    entry_points=(
        EntryPoint(
            command="train",
            help="Fit a classifier, log it with its metrics, and print the run id.",
            declared=(TrainParams, DataParams),
            aliases=("main",),
        ),
        EntryPoint(
            command="tune",
            help="Grid-search the decision tree (default: the tutorial's 10 x 10 grid): a "
            "child run per configuration; the parent logs the best model as train does.",
            declared=(TuneParams, DataParams),
        ),
        evaluate_entry_point(
            "Evaluate a model on its training run's held-out split with mlflow.models.evaluate."
        ),
        register_entry_point("iris", GateParams),
        score_entry_point("iris"),
        monitor_entry_point("iris"),
    ),
)

"""Unit tests of the pure iris grid search, on the real iris table held in memory and on
tiny frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from iris_workflow import core, tuning
from iris_workflow.data import read_iris_csv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def splits() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = read_iris_csv(ROOT / "datasets" / "iris.csv")
    return core.split_frame(frame, 0.3, 42)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2..5", (2, 3, 4, 5)),
        ("8,2,4,2", (2, 4, 8)),
        ("1..3, 7", (1, 2, 3, 7)),
        (" 4 .. 4 ", (4,)),
    ],
)
def test_grids_are_ranges_lists_or_both(text: str, expected: tuple[int, ...]) -> None:
    assert tuning.parse_grid("max_depth_grid", text, 1) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "give values like 2..11"),
        ("5..2", "runs backwards; write 2..5"),
        ("two", "'two' is not an integer or a range"),
        ("1.5", "'1.5' is not an integer"),
        ("1..3", "every value must be an integer in \\[2, 10000\\]; got 1"),
        ("2..20000", "got 10001"),
    ],
)
def test_bad_grids_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(core.ParameterError, match=message) as caught:
        tuning.parse_grid("max_leaf_nodes_grid", text, 2)
    assert caught.value.name == "max_leaf_nodes_grid"


def test_the_default_grid_is_the_tutorials_hundred() -> None:
    grid = tuning.TuneParams()
    assert grid.size == 100
    assert grid.configurations()[:2] == [(2, 1), (2, 2)]
    assert grid.configurations()[-1] == (11, 10)


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"cv_folds": 1}, "cv_folds"),
        ({"cv_folds": 21}, "cv_folds"),
        ({"cv_folds": True}, "cv_folds"),
        ({"random_state": -1}, "random_state"),
        ({"max_depth_grid": ""}, "max_depth_grid"),
        ({"max_leaf_nodes_grid": "2..400", "max_depth_grid": "1..400"}, "grid"),
    ],
)
def test_tune_params_are_validated(changes: dict, name: str) -> None:
    arguments = {"max_leaf_nodes_grid": "2,3", "max_depth_grid": "1,2", **changes}
    with pytest.raises(core.ParameterError) as caught:
        tuning.TuneParams(**arguments)
    assert caught.value.name == name


def test_every_configuration_is_scored_and_the_choice_uses_cross_validation(splits) -> None:
    train, test = splits
    grid = tuning.TuneParams(max_leaf_nodes_grid="2,3,4,8", max_depth_grid="1,2,3")
    results = tuning.score_grid(grid, train, test)
    assert [(r.max_leaf_nodes, r.max_depth) for r in results] == grid.configurations()
    assert all(0.0 <= r.cv_accuracy <= 1.0 and 0.0 <= r.test_accuracy <= 1.0 for r in results)
    # two leaves or depth 1 can separate only one species from the other two
    stump = next(r for r in results if (r.max_leaf_nodes, r.max_depth) == (2, 1))
    assert stump.cv_accuracy == pytest.approx(2 / 3, abs=0.05)
    best = tuning.best_config(results)
    assert best.cv_accuracy == max(r.cv_accuracy for r in results)
    assert best.cv_accuracy > 0.9
    # the held-out score reported for a configuration is that of the tree train would fit
    params = core.TrainParams(max_leaf_nodes=best.max_leaf_nodes, max_depth=best.max_depth)
    fitted = core.fit_classifier(params, train)
    metrics = core.evaluate_splits(fitted, train, test)
    assert metrics["test_accuracy"] == pytest.approx(best.test_accuracy)


def test_scores_are_reproducible_and_seeded(splits) -> None:
    train, test = splits
    grid = tuning.TuneParams(max_leaf_nodes_grid="3,5", max_depth_grid="2,4", random_state=7)
    assert tuning.score_grid(grid, train, test) == tuning.score_grid(grid, train, test)


def test_ties_go_to_the_simpler_tree_whatever_the_grid_order() -> None:
    def result(leaves: int, depth: int, cv: float, test: float) -> tuning.ConfigResult:
        return tuning.ConfigResult(leaves, depth, cv, 0.0, test)

    results = [result(8, 5, 0.95, 0.90), result(4, 3, 0.95, 0.80), result(4, 6, 0.95, 1.0)]
    best = tuning.best_config(results)
    assert (best.max_leaf_nodes, best.max_depth) == (4, 3)
    assert tuning.best_config(list(reversed(results))) == best
    table = tuning.results_frame(results)
    assert list(table["rank"]) == [3, 1, 2]
    assert list(table.columns) == [
        "max_leaf_nodes",
        "max_depth",
        "cv_accuracy",
        "cv_accuracy_std",
        "test_accuracy",
        "rank",
    ]


def test_more_folds_than_the_smallest_class_is_refused() -> None:
    frame = pd.DataFrame(
        {
            **{feature: [float(i) for i in range(9)] for feature in core.FEATURES},
            core.TARGET: ["a"] * 3 + ["b"] * 3 + ["c"] * 3,
        }
    )
    grid = tuning.TuneParams(max_leaf_nodes_grid="2", max_depth_grid="1", cv_folds=4)
    with pytest.raises(core.ParameterError, match="smallest class has 3 training rows"):
        tuning.score_grid(grid, frame, frame)

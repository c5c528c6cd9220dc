"""Two ways to run an iris grid, for comparison with the ``tune`` entry point:

- ``tutorial``: the source tutorial's way: one top-level run per configuration, four
  separate log calls (two parameters, one metric, the model) and ``log_model`` with
  MLflow's requirement inference, for every configuration;
- ``floor``: the least a logged grid can cost: the same scoring as ``tune`` and one
  ``log_batch`` per configuration (into a single run, each configuration's values under
  its own keys), and nothing else.

``python -m bench.grids tutorial|floor --max-leaf-nodes-grid 2..11 --max-depth-grid 1..10``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY_ROOT / "iris"))


def _splits():
    from iris_workflow import core
    from iris_workflow.data import read_iris_csv

    frame = read_iris_csv(REPOSITORY_ROOT / "datasets" / "iris.csv")
    return core.split_frame(frame, 0.3, 42)


def tutorial(leaves: tuple[int, ...], depths: tuple[int, ...]) -> None:
    import mlflow
    from sklearn.metrics import accuracy_score
    from sklearn.tree import DecisionTreeClassifier

    from iris_workflow import core

    train, test = _splits()
    features = list(core.FEATURES)
    for max_leaf_nodes in leaves:
        for max_depth in depths:
            with mlflow.start_run():
                model = DecisionTreeClassifier(
                    max_leaf_nodes=max_leaf_nodes, max_depth=max_depth, random_state=42
                ).fit(train[features], train[core.TARGET])
                accuracy = accuracy_score(test[core.TARGET], model.predict(test[features]))
                mlflow.log_param("max_leaf_nodes", max_leaf_nodes)
                mlflow.log_param("max_depth", max_depth)
                mlflow.log_metric("accuracy", accuracy)
                mlflow.sklearn.log_model(
                    model, name="model", skops_trusted_types=["sklearn.tree._tree.Tree"]
                )


def floor(leaves: tuple[int, ...], depths: tuple[int, ...]) -> None:
    import mlflow
    from mlflow.entities import Metric, Param

    from iris_workflow import tuning

    train, test = _splits()
    grid = tuning.TuneParams(
        max_leaf_nodes_grid=",".join(map(str, leaves)), max_depth_grid=",".join(map(str, depths))
    )
    results = tuning.score_grid(grid, train, test)
    client = mlflow.MlflowClient()
    with mlflow.start_run() as run:
        for index, result in enumerate(results):
            now = int(time.time() * 1000)
            client.log_batch(
                run.info.run_id,
                params=[
                    Param(f"c{index}.max_leaf_nodes", str(result.max_leaf_nodes)),
                    Param(f"c{index}.max_depth", str(result.max_depth)),
                ],
                metrics=[
                    Metric(f"c{index}.cv_accuracy", result.cv_accuracy, now, 0),
                    Metric(f"c{index}.cv_accuracy_std", result.cv_accuracy_std, now, 0),
                    Metric(f"c{index}.test_accuracy", result.test_accuracy, now, 0),
                ],
            )


def main(argv: list[str] | None = None) -> None:
    from iris_workflow import tuning

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("way", choices=["tutorial", "floor"])
    defaults = tuning.TuneParams()
    parser.add_argument("--max-leaf-nodes-grid", default=defaults.max_leaf_nodes_grid)
    parser.add_argument("--max-depth-grid", default=defaults.max_depth_grid)
    options = parser.parse_args(argv)
    leaves = tuning.parse_grid("max_leaf_nodes_grid", options.max_leaf_nodes_grid, 2)
    depths = tuning.parse_grid("max_depth_grid", options.max_depth_grid, 1)
    (tutorial if options.way == "tutorial" else floor)(leaves, depths)


if __name__ == "__main__":
    main()

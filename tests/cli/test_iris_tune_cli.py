"""CLI tests: the iris ``tune`` command, in-process, against a temporary sqlite store."""

from __future__ import annotations

import io
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from iris_workflow.cli import cli
from tests.helpers import Store, all_runs, client_for


def tune(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(cli, ["tune", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    match = re.search(r"run_id=([0-9a-f]{32})", result.output)
    assert match, result.output
    return match.group(1), result.output


def test_tune_logs_a_child_per_configuration_and_only_the_best_model(store: Store) -> None:
    import mlflow

    parent_id, output = tune("--max-leaf-nodes-grid", "2..4,8", "--max-depth-grid", "1..3")
    client = client_for(store)
    runs = all_runs(store)
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent_id]
    assert len(runs) == 1 + 12
    assert len(children) == 12
    assert "configurations=12" in output
    assert {(r.data.params["max_leaf_nodes"], r.data.params["max_depth"]) for r in children} == {
        (str(leaves), str(depth)) for leaves in (2, 3, 4, 8) for depth in (1, 2, 3)
    }
    for child in children:
        assert child.info.status == "FINISHED"
        assert set(child.data.metrics) == {"cv_accuracy", "cv_accuracy_std", "test_accuracy"}
        assert client.list_artifacts(child.info.run_id) == []
        assert (
            client.search_logged_models(
                [store.experiment_id], filter_string=f"source_run_id = '{child.info.run_id}'"
            )
            == []
        )

    parent = client.get_run(parent_id)
    assert parent.info.status == "FINISHED"
    table = pd.read_csv(
        io.StringIO(mlflow.artifacts.load_text(f"runs:/{parent_id}/tuning/results.csv"))
    )
    assert len(table) == 12
    best = table.loc[table["rank"] == 1].iloc[0]
    assert best["cv_accuracy"] == table["cv_accuracy"].max()
    # the parent looks like a training run of the best configuration
    assert parent.data.params["max_leaf_nodes"] == str(int(best["max_leaf_nodes"]))
    assert parent.data.params["max_depth"] == str(int(best["max_depth"]))
    assert parent.data.params["model"] == "decision_tree"
    assert parent.data.metrics["cv_accuracy"] == pytest.approx(best["cv_accuracy"])
    assert parent.data.metrics["test_accuracy"] == pytest.approx(best["test_accuracy"])
    assert parent.data.tags["lifecycle.step"] == "tune"
    best_child = client.get_run(parent.data.tags["best_child_run_id"])
    assert best_child.data.params["max_depth"] == str(int(best["max_depth"]))
    artifacts = {item.path for item in client.list_artifacts(parent_id)}
    assert {"split", "confusion_matrix.png", "tuning"} <= artifacts
    assert {item.path for item in client.list_artifacts(parent_id, "tuning")} == {
        "tuning/results.csv",
        "tuning/accuracy_heatmap.png",
    }
    model = mlflow.pyfunc.load_model(f"runs:/{parent_id}/model")
    row = pd.DataFrame(
        {"sepal_length": [5.1], "sepal_width": [3.5], "petal_length": [1.4], "petal_width": [0.2]}
    )
    assert list(model.predict(row)) == ["setosa"]


def test_the_tuned_model_goes_to_evaluate_and_register_as_trains_does(store: Store) -> None:
    parent_id, _ = tune("--max-leaf-nodes-grid", "3,4", "--max-depth-grid", "2,3")
    model_uri = f"runs:/{parent_id}/model"
    evaluated = CliRunner().invoke(cli, ["evaluate", "--model-uri", model_uri])
    assert evaluated.exit_code == 0, evaluated.output
    registered = CliRunner().invoke(cli, ["register", "--model-uri", model_uri])
    assert registered.exit_code == 0, registered.output
    assert "gate PASSED" in registered.output
    champion = client_for(store).get_model_version_by_alias("iris", "champion")
    assert champion.run_id == parent_id


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--max-depth-grid", "3..1"], ["--max-depth-grid", "runs backwards"]),
        (["--max-leaf-nodes-grid", "1,2"], ["--max-leaf-nodes-grid", "[2, 10000]; got 1"]),
        (["--max-leaf-nodes-grid", "a"], ["'a' is not an integer"]),
        (["--cv-folds", "1"], ["--cv-folds", "must be an integer from 2 to 20"]),
        (
            ["--max-leaf-nodes-grid", "2..1001", "--max-depth-grid", "1..101"],
            [
                "Invalid value for --max-leaf-nodes-grid / --max-depth-grid: grid='1000 x 101': "
                "makes 101000 configurations; at most 100000 are allowed"
            ],
        ),
        (["--cv-folds", "five"], ["'five' is not a valid integer"]),
        (["--test-size", "1.5"], ["--test-size", "(0, 1)"]),
        (["--cv-folds", "20", "--test-size", "0.9"], ["--cv-folds", "use at most 3 folds"]),
    ],
)
def test_bad_tune_parameters_fail_before_any_run(
    store: Store, args: list[str], fragments: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["tune", *args])
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.output
    assert all_runs(store) == []

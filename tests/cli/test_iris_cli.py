"""CLI tests: the iris click commands, in-process, against a temporary sqlite store."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner, Result

from iris_workflow.cli import cli
from tests.helpers import Store, all_runs, assert_no_running_runs, client_for


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def train(*args: str) -> str:
    result = invoke("train", *args)
    assert result.exit_code == 0, result.output
    match = re.search(r"run_id=([0-9a-f]{32})", result.output)
    assert match, result.output
    return match.group(1)


def register(model_uri: str, *args: str) -> Result:
    result = invoke("register", "--model-uri", model_uri, *args)
    assert result.exit_code == 0, result.output
    return result


def test_train_logs_params_metrics_model_dataset_and_plots(store: Store) -> None:
    import mlflow

    run_id = train("--max-depth", "3")
    client = client_for(store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["max_depth"] == "3"
    assert run.data.params["model"] == "decision_tree"
    assert run.data.params["test_size"] == "0.3"
    assert run.data.params["data_path"].endswith("datasets/iris.csv")
    for split in ("train", "test"):
        for name in ("accuracy", "precision_weighted", "recall_weighted", "f1_weighted"):
            assert 0.0 <= run.data.metrics[f"{split}_{name}"] <= 1.0
    assert run.data.metrics["test_accuracy"] >= 0.9
    assert run.data.tags["data_sha256"] == (
        "9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355"
    )

    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "iris"
    assert {tag.key: tag.value for tag in dataset_input.tags}["mlflow.data.context"] == "training"
    assert json.loads(dataset_input.dataset.profile)["num_rows"] == 150

    artifacts = {item.path for item in client.list_artifacts(run_id)}
    assert {"confusion_matrix.png", "split"} <= artifacts
    heldout = mlflow.artifacts.load_text(f"runs:/{run_id}/split/test.csv").splitlines()
    assert len(heldout) == 1 + 39  # header + the 39 of 150 flowers the row hash holds out

    model_dir = Path(mlflow.artifacts.download_artifacts(f"runs:/{run_id}/model"))
    mlmodel = yaml.safe_load((model_dir / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert "sklearn.tree._tree.Tree" in mlmodel["flavors"]["sklearn"]["skops_trusted_types"]
    # served and pyfunc-loaded through the request guard, which travels with the model
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "iris_workflow.served"
    assert (model_dir / "code" / "iris_workflow" / "served.py").is_file()
    inputs = json.loads(mlmodel["signature"]["inputs"])
    assert [column["name"] for column in inputs] == [
        "sepal_length",
        "sepal_width",
        "petal_length",
        "petal_width",
    ]
    assert json.loads(mlmodel["signature"]["outputs"])[0]["type"] == "string"
    assert (model_dir / "input_example.json").exists()
    requirements = (model_dir / "requirements.txt").read_text().split()
    assert "mlflow==3.17.2" in requirements
    assert "scikit-learn==1.9.1" in requirements

    classifier = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
    assert classifier.get_depth() <= 3
    assert classifier.max_depth == 3


def test_max_depth_changes_the_default_model(store: Store) -> None:
    import mlflow

    stump = mlflow.sklearn.load_model(f"runs:/{train('--max-depth', '1')}/model")
    deeper = mlflow.sklearn.load_model(f"runs:/{train('--max-depth', '4')}/model")
    assert stump.get_depth() == 1
    assert deeper.get_depth() > 1


@pytest.mark.parametrize(
    ("args", "param"),
    [
        (["--model", "logistic_regression", "--C", "0.5"], "C"),
        (["--model", "random_forest", "--n-estimators", "7"], "n_estimators"),
    ],
)
def test_other_models_train_and_predict_species(store: Store, args: list[str], param: str) -> None:
    import mlflow

    run_id = train(*args)
    model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    import pandas as pd

    row = pd.DataFrame(
        [[5.1, 3.5, 1.4, 0.2]],
        columns=["sepal_length", "sepal_width", "petal_length", "petal_width"],
    )
    assert list(model.predict(row)) == ["setosa"]
    assert client_for(store).get_run(run_id).data.params[param] == args[-1]


def test_evaluate_logs_to_its_own_run_tagged_with_the_training_run(store: Store) -> None:
    train_id = train()
    result = invoke("evaluate", "--model-uri", f"runs:/{train_id}/model")
    assert result.exit_code == 0, result.output
    evaluate_id = re.search(r"run_id=([0-9a-f]{32})", result.output).group(1)
    assert evaluate_id != train_id
    client = client_for(store)
    run = client.get_run(evaluate_id)
    assert run.data.tags["lifecycle.training_run_id"] == train_id
    assert run.data.metrics["example_count"] == 39
    train_accuracy = client.get_run(train_id).data.metrics["test_accuracy"]
    assert run.data.metrics["accuracy_score"] == pytest.approx(train_accuracy)
    artifacts = {item.path for item in client.list_artifacts(evaluate_id)}
    assert any("confusion_matrix" in path for path in artifacts), artifacts


def alias_version(store: Store, alias: str) -> str:
    return str(client_for(store).get_model_version_by_alias("iris", alias).version)


def test_register_gate_aliases_and_recorded_decisions(store: Store) -> None:
    client = client_for(store)
    first = train("--max-depth", "2")  # held-out accuracy 0.9231 (3 of 39 wrong)
    out = register(f"runs:/{first}/model").output
    assert "gate PASSED" in out
    assert "no champion yet" in out
    assert alias_version(store, "champion") == alias_version(store, "challenger") == "1"
    version = client.get_model_version("iris", "1")
    assert version.tags["lifecycle.gate.decision"] == "passed"
    assert version.tags["lifecycle.gate.previous_champion"] == "none"
    assert float(version.tags["lifecycle.gate.value"]) == pytest.approx(0.9231, abs=1e-4)

    worse = train("--max-depth", "1")  # held-out accuracy 0.5897
    failed = register(f"runs:/{worse}/model")
    assert "gate FAILED: accuracy 0.5897 < 0.9000; no model version registered" in failed.output
    assert len(client.search_model_versions("name='iris'")) == 1
    failed_run = next(
        r for r in all_runs(store) if r.data.tags.get("lifecycle.gate.decision") == "failed"
    )
    assert failed_run.info.status == "FINISHED"
    assert failed_run.data.tags["lifecycle.champion_version"] == "1"
    assert "lifecycle.registered_version" not in failed_run.data.tags

    out = register(f"runs:/{worse}/model", "--gate-threshold", "0.5").output
    assert "worse than champion version 1" in out
    assert alias_version(store, "challenger") == "2"
    assert alias_version(store, "champion") == "1"
    assert client.get_model_version("iris", "2").tags["lifecycle.gate.promoted"] == "false"

    # Better on one held-out row only: the exact McNemar test finds that noise.
    better = train()  # held-out accuracy 0.9487
    out = register(f"runs:/{better}/model").output
    assert "better than champion version 1 (accuracy 0.9231)" in out
    assert "exact McNemar on 39 paired rows (1 better, 0 worse): one-sided p=0.5" in out
    assert "not significantly better, champion kept" in out
    assert alias_version(store, "champion") == "1"
    assert alias_version(store, "challenger") == "3"
    assert client.get_model_version("iris", "3").tags["lifecycle.promotion.decision"] == "kept"

    # promotion_alpha=1 turns the test off and gives back the strictly-better rule.
    out = register(f"runs:/{better}/model", "--promotion-alpha", "1").output
    assert "better than champion version 1 (accuracy 0.9231), the new version becomes" in out
    assert alias_version(store, "champion") == alias_version(store, "challenger") == "4"
    tags = client.get_model_version("iris", "4").tags
    assert tags["lifecycle.gate.previous_champion"] == "1"
    assert float(tags["lifecycle.gate.previous_champion_value"]) == pytest.approx(0.9231, abs=1e-4)
    assert tags["lifecycle.promotion.test"].startswith("none (promotion_alpha=1")
    assert tags["lifecycle.promotion.p_value"] == "none"
    assert tags["lifecycle.promotion.decision"] == "promoted"


def test_a_clearly_better_model_is_promoted_by_the_paired_test(store: Store) -> None:
    """A depth-1 tree (it tells setosa apart, nothing more) as champion; the default tree
    then wins on enough held-out rows for McNemar's test."""
    import mlflow

    client = client_for(store)
    stump = train("--max-depth", "1")  # held-out accuracy 0.5897
    assert "decision=first" in register(f"runs:/{stump}/model", "--gate-threshold", "0.5").output
    default = train()
    out = register(f"runs:/{default}/model").output
    assert "version=2 decision=promoted p_value=6.104e-05" in out
    assert "exact McNemar on 39 paired rows (14 better, 0 worse): one-sided p=6.10e-05" in out
    assert "< promotion_alpha 0.05: significantly better, the new version becomes champion" in out
    assert alias_version(store, "champion") == "2"
    tags = client.get_model_version("iris", "2").tags
    assert tags["lifecycle.promotion.test"] == "exact McNemar"
    assert float(tags["lifecycle.promotion.p_value"]) == pytest.approx(0.5**14)
    register_run = client.get_run(re.search(r"run_id=(\w+)", out).group(1))
    assert register_run.data.tags["lifecycle.promotion.decision"] == "promoted"
    assert register_run.data.metrics["promotion_p_value"] == pytest.approx(0.5**14)
    assert register_run.data.metrics["promotion_compared_rows"] == 39
    assert register_run.data.tags["lifecycle.promotion.compared_on"].startswith(
        "39 rows of the same data (ids digest "
    )
    paired = pd.read_csv(
        io.StringIO(
            mlflow.artifacts.load_text(
                f"runs:/{register_run.info.run_id}/promotion/paired_rows.csv"
            )
        )
    )
    assert len(paired) == 39
    assert ((paired["challenger_loss"] < paired["champion_loss"]).sum()) == 14
    # A stricter level keeps a model the default level would promote.
    strict = register(f"runs:/{default}/model", "--promotion-alpha", "0.001").output
    assert "decision=kept" in strict
    assert "0 better, 0 worse" in strict  # the same model as the champion now


def test_a_champion_registered_without_evidence_has_it_computed_from_its_training_run(
    store: Store,
) -> None:
    """A version registered before evidence was kept with it (no evidence tag): its
    per-row evidence is computed from its training run, and the test runs as usual."""
    client = client_for(store)
    stump = train("--max-depth", "1")
    register(f"runs:/{stump}/model", "--gate-threshold", "0.5")
    client.delete_model_version_tag("iris", "1", "lifecycle.promotion.evidence")
    out = register(f"runs:/{train()}/model").output
    assert "exact McNemar on 39 paired rows (14 better, 0 worse): one-sided p=6.10e-05" in out
    assert alias_version(store, "champion") == "2"


def test_a_model_whose_training_run_failed_is_refused(store: Store) -> None:
    run_id = train()
    client_for(store).set_terminated(run_id, "FAILED")
    result = invoke("register", "--model-uri", f"runs:/{run_id}/model")
    assert result.exit_code == 1
    assert f"training run {run_id}, which is FAILED, not FINISHED" in result.output
    assert client_for(store).search_registered_models() == []


def test_a_model_whose_training_run_was_deleted_is_refused(store: Store) -> None:
    run_id = train()
    client_for(store).delete_run(run_id)
    result = invoke("register", "--model-uri", f"runs:/{run_id}/model")
    assert result.exit_code == 1
    assert f"training run {run_id}, which was deleted" in result.output
    assert client_for(store).search_registered_models() == []


def test_a_version_registered_by_hand_from_another_projects_run_is_refused(
    store: Store, tmp_path: Path
) -> None:
    """The registered name says iris, the training run says gold_prices: the run's
    label decides, before any row is read."""
    client = client_for(store)
    register(f"runs:/{train()}/model")
    champion = client.get_model_version("iris", "1")
    gold_run = client.create_run(store.experiment_id, tags={"lifecycle.project": "gold_prices"})
    client.set_terminated(gold_run.info.run_id)
    client.create_model_version("iris", champion.source, run_id=gold_run.info.run_id)
    batch = tmp_path / "batch.csv"
    batch.write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    result = invoke("monitor", "--input", str(batch), "--model-uri", "models:/iris/2")
    assert result.exit_code == 1
    assert (
        f"is a gold_prices model (its training run {gold_run.info.run_id} says so); "
        "iris monitor takes models of iris"
    ) in result.output
    assert "5.1" not in result.output


def test_register_uses_the_named_model_and_metric(store: Store) -> None:
    run_id = train()
    out = register(
        f"runs:/{run_id}/model", "--model-name", "iris-staging", "--gate-metric", "f1_weighted"
    ).output
    assert "f1_weighted" in out
    version = client_for(store).get_model_version_by_alias("iris-staging", "champion")
    assert version.tags["lifecycle.gate.metric"] == "f1_weighted"


# -- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--max-depth", "abc"], ["--max-depth", "'abc' is not a valid integer"]),
        (["--max-depth", "0"], ["--max-depth", "max_depth=0", "integer from 1 to 10000"]),
        (["--test-size", "1.5"], ["--test-size", "test_size=1.5", "(0, 1)"]),
        (["--model", "xgboost"], ["--model", "'xgboost'", "decision_tree, logistic_regression"]),
        (["--C", "-1"], ["--C", "C=-1.0", "a number > 0"]),
        (["--random-state", "-5"], ["--random-state", "integer from 0 to 4294967295"]),
    ],
)
def test_bad_parameters_fail_before_any_run(
    store: Store, args: list[str], fragments: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 2
    for fragment in fragments:
        assert fragment in result.output
    assert all_runs(store) == []


def bad_file(tmp_path: Path, case: str) -> str:
    path = tmp_path / f"{case}.csv"
    header = "sepal_length,sepal_width,petal_length,petal_width,species\n"
    if case == "missing":
        return str(path)
    text = {
        "empty": "",
        "wrong_columns": "a,b,c,d,e\n1,2,3,4,x\n",
        "non_numeric": header + "5.1,wide,1.4,0.2,setosa\n" * 10,
    }[case]
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing", "does not exist"),
        ("empty", "is empty"),
        ("wrong_columns", "missing column(s) sepal_length, sepal_width"),
        ("non_numeric", "column 'sepal_width' must hold finite numbers"),
    ],
)
def test_bad_data_files_fail_clearly_without_a_run(
    store: Store, tmp_path: Path, case: str, fragment: str
) -> None:
    path = bad_file(tmp_path, case)
    result = CliRunner().invoke(cli, ["train", "--data-path", path])
    assert result.exit_code == 1
    assert fragment in result.output
    assert path in result.output
    assert all_runs(store) == []


@pytest.mark.parametrize("step", ["evaluate", "register"])
@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("runs:/0123456789abcdef0123456789abcdef/model", "does not name an existing model"),
        ("models:/m-0123456789abcdef0123456789abcdef", "does not name an existing model"),
        ("not-a-uri", "is not a model URI"),
    ],
)
def test_missing_model_uri_fails_and_keeps_what_is_saved(
    store: Store, step: str, uri: str, fragment: str
) -> None:
    if step == "register":
        register(f"runs:/{train()}/model")
    before = {run.info.run_id for run in all_runs(store)}
    result = CliRunner().invoke(cli, [step, "--model-uri", uri])
    assert result.exit_code == 1
    assert f"model_uri {uri!r}" in result.output or uri in result.output
    assert fragment in result.output
    assert {run.info.run_id for run in all_runs(store)} == before
    assert_no_running_runs(store)
    if step == "register":
        assert alias_version(store, "champion") == "1"
        assert len(client_for(store).search_model_versions("name='iris'")) == 1


def test_register_refuses_a_registered_version(store: Store) -> None:
    run_id = train()
    register(f"runs:/{run_id}/model")
    result = CliRunner().invoke(cli, ["register", "--model-uri", "models:/iris@champion"])
    assert result.exit_code == 1
    assert "names a registered model version" in result.output
    assert len(client_for(store).search_model_versions("name='iris'")) == 1
    logged_model_uri = client_for(store).get_model_version("iris", "1").source
    assert logged_model_uri.startswith("models:/m-")
    assert "version=2" in register(logged_model_uri).output


def test_bad_gate_parameters(store: Store) -> None:
    result = CliRunner().invoke(
        cli, ["register", "--model-uri", "runs:/x/model", "--gate-threshold", "2"]
    )
    assert result.exit_code == 2
    assert "gate_threshold=2.0" in result.output
    result = CliRunner().invoke(
        cli, ["register", "--model-uri", "runs:/x/model", "--gate-metric", "auc"]
    )
    assert result.exit_code == 2
    assert "accuracy, precision_weighted" in result.output

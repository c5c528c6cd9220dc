"""CLI tests: the cities click commands, in-process, against a temporary sqlite store,
on the real pinned table read through the mirror."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from cities_workflow.cli import cli
from cities_workflow.profiles import PROFILES
from tests.helpers import Store, all_runs, assert_no_running_runs, client_for

CITIES_SHA256 = "336042373c7d225ba7fb42f4062d5895c297346ae3ea35bc96453df54c5bfa18"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_id_of(result: Result) -> str:
    assert result.exit_code == 0, result.output
    match = re.search(r"run_id=([0-9a-f]{32})", result.output)
    assert match, result.output
    return match.group(1)


def test_train_evaluate_register_on_the_pinned_table(store: Store, datasets_mirror: Path) -> None:
    import mlflow

    run_id = run_id_of(invoke("train", "--datasets-mirror", str(datasets_mirror)))
    client = client_for(store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["n_components"] == "5"
    metrics = run.data.metrics
    ratios = [metrics[f"explained_variance_ratio_pc{i}"] for i in range(1, 6)]
    assert ratios == sorted(ratios, reverse=True)
    assert metrics["explained_variance"] == pytest.approx(sum(ratios))
    assert metrics["eval_constraint_satisfaction"] == 1.0
    assert metrics["eval_filled_share"] == 1.0
    assert run.data.tags["data_sha256"] == CITIES_SHA256
    artifacts = {item.path for item in client.list_artifacts(run_id, "pca")}
    assert artifacts == {"pca/loadings.csv", "pca/city_map.png", "pca/explained_variance.png"}
    loadings = pd.read_csv(
        io.StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/pca/loadings.csv")), index_col=0
    )
    assert loadings.shape == (27, 5)
    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "cities"

    model_uri = f"runs:/{run_id}/model"
    model = mlflow.pyfunc.load_model(model_uri)
    answer = model.predict(model.input_example)
    assert answer["profile"].tolist() == [0] * 5 + [1] * 5
    assert set(answer.loc[answer["profile"] == 0, "region"]) == {"europe"}
    assert set(answer.loc[answer["profile"] == 1, "budget_level"]) == {"Budget"}

    evaluation = client.get_run(run_id_of(invoke("evaluate", "--model-uri", model_uri)))
    assert evaluation.data.metrics["constraint_satisfaction"] == 1.0
    assert evaluation.data.metrics["coverage"] == pytest.approx(metrics["eval_coverage"])
    table = pd.read_csv(
        io.StringIO(
            mlflow.artifacts.load_text(
                f"runs:/{evaluation.info.run_id}/evaluation/recommendations.csv"
            )
        )
    )
    assert set(table["profile_name"]) == {profile["name"] for profile in PROFILES}

    registered = invoke("register", "--model-uri", model_uri)
    assert "version=1" in registered.output
    assert "every recommendation meets its constraints" in registered.output
    strict = invoke("register", "--model-uri", model_uri, "--min-explained-variance", "0.99")
    assert "version=none" in strict.output
    assert client.get_run(run_id_of(strict)).data.tags["lifecycle.champion_version"] == "1"
    champion = client.get_model_version_by_alias("cities", "champion")
    assert str(champion.version) == "1"
    assert champion.tags["lifecycle.gate.constraint_satisfaction"] == "1.0"
    assert champion.tags["lifecycle.gate.filled_share"] == "1.0"
    # The same model again: the same relevance on every profile, p = 1, champion kept.
    again = invoke("register", "--model-uri", model_uri)
    assert "version=2 decision=kept p_value=1" in again.output
    assert "ties champion version 1" in again.output
    assert "Wilcoxon signed-rank on 9 paired rows (0 better, 0 worse): one-sided p=1" in (
        again.output
    )
    assert str(client.get_model_version_by_alias("cities", "champion").version) == "1"
    # A recommender that ranks by relevance alone is better on most profiles: promoted.
    relevant = invoke("train", "--diversity", "0")
    relevant_uri = re.search(r"model_uri=(\S+)", relevant.output).group(1)
    promoted = invoke("register", "--model-uri", relevant_uri)
    assert "version=3 decision=promoted" in promoted.output
    assert "significantly better" in promoted.output
    version = client.get_model_version("cities", "3")
    assert version.tags["lifecycle.promotion.test"] == "Wilcoxon signed-rank"
    assert float(version.tags["lifecycle.promotion.p_value"]) < 0.05
    assert str(client.get_model_version_by_alias("cities", "champion").version) == "3"
    assert_no_running_runs(store)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--n-components", "1"], "--n-components"),
        (["--n-components", "x"], "--n-components"),
        (["--diversity", "1"], "--diversity"),
        (["--random-state", "-3"], "--random-state"),
    ],
)
def test_bad_parameters_exit_2_naming_the_option_and_log_nothing(
    store: Store, args: list[str], flag: str
) -> None:
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 2, result.output
    assert flag in result.output
    assert all_runs(store) == []


def test_a_bad_file_exits_1_with_the_reason_and_logs_nothing(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "cities.csv"
    bad.write_text("id,city,country\n1,Rome,Italy\n")
    result = CliRunner().invoke(cli, ["train", "--data-path", str(bad)])
    assert result.exit_code == 1
    assert "missing column(s) region" in result.output
    assert all_runs(store) == []


@pytest.mark.parametrize("step", ["evaluate", "register"])
def test_steps_refuse_models_that_do_not_exist(store: Store, step: str) -> None:
    result = CliRunner().invoke(cli, [step, "--model-uri", "runs:/" + "0" * 32 + "/model"])
    assert result.exit_code == 1
    assert "does not name an existing model" in result.output

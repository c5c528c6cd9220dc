"""CLI tests: the gold_prices click commands, in-process, against a temporary sqlite
store, on the real pinned data read through the mirror."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from gold_workflow.cli import cli
from tests.helpers import Store, all_runs, assert_no_running_runs, client_for

GOLD_SHA256 = "e9de048838c5c846b613df86ab10b91e081189d2af2a7210e324a727e02a8e33"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_id_of(result: Result) -> str:
    assert result.exit_code == 0, result.output
    match = re.search(r"run_id=([0-9a-f]{32})", result.output)
    assert match, result.output
    return match.group(1)


def test_train_evaluate_register_on_the_pinned_data(store: Store, datasets_mirror: Path) -> None:
    import mlflow

    result = invoke("train", "--datasets-mirror", str(datasets_mirror), "--refit-every", "63")
    run_id = run_id_of(result)
    assert "the model beats the naive last-close forecast" in result.output
    client = client_for(store)
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model"] == "linear_regression"
    assert run.data.params["horizon"] == "1"
    assert run.data.params["refit_every"] == "63"
    metrics = run.data.metrics
    for name in ("mae", "rmse", "mape", "directional_accuracy", "mase"):
        assert f"backtest_{name}" in metrics
    for name in ("mae", "rmse", "mape"):
        assert f"naive_{name}" in metrics
    assert metrics["backtest_mase"] == pytest.approx(metrics["backtest_mae"] / metrics["naive_mae"])
    assert metrics["backtest_refits"] == pytest.approx(metrics["backtest_rows"] / 63, abs=1)
    tags = run.data.tags
    assert tags["data_sha256"] == GOLD_SHA256
    assert tags["data_pinned"] == "true"
    assert tags["data_dropped_partial_bar"] == "2025-06-06"
    assert tags["data_last_date"] == "2025-06-05"
    assert tags["lifecycle.key_metrics"].split(",")[0] == "backtest_mase"
    assert tags["beats_naive"] == str(metrics["backtest_mase"] < 1).lower()

    (dataset_input,) = run.inputs.dataset_inputs
    assert dataset_input.dataset.name == "gold_prices"
    artifacts = {item.path for item in client.list_artifacts(run_id, "plots")}
    assert artifacts == {"plots/forecast_vs_actual.png", "plots/residuals.png"}
    forecasts = pd.read_csv(
        io.StringIO(mlflow.artifacts.load_text(f"runs:/{run_id}/backtest/forecasts.csv"))
    )
    assert len(forecasts) == metrics["backtest_rows"]
    assert forecasts["target_date"].iloc[-1] == "2025-06-05"
    assert (pd.to_datetime(forecasts["Date"]) < pd.to_datetime(forecasts["target_date"])).all()

    model_uri = f"runs:/{run_id}/model"
    model = mlflow.pyfunc.load_model(model_uri)
    example = model.input_example
    assert len(example) == 64
    assert example["Date"].iloc[-1] == "2025-06-05"
    answer = model.predict(example)
    assert answer["Close"].iloc[0] == pytest.approx(3351.98)
    assert 3000 < answer["forecast_close"].iloc[0] < 3700

    evaluation = client.get_run(run_id_of(invoke("evaluate", "--model-uri", model_uri)))
    assert evaluation.data.tags["lifecycle.training_run_id"] == run_id
    assert evaluation.data.metrics["backtest_mase"] == pytest.approx(metrics["backtest_mase"])
    assert evaluation.data.metrics["mean_absolute_error"] == pytest.approx(metrics["backtest_mae"])
    assert evaluation.data.metrics["served_example_forecast_close"] == pytest.approx(
        answer["forecast_close"].iloc[0]
    )

    loose = invoke("register", "--model-uri", model_uri, "--max-mase", "1.5")
    assert "version=1" in loose.output
    assert "becomes champion" in loose.output
    strict = invoke("register", "--model-uri", model_uri, "--max-mase", "0.5")
    assert "version=none" in strict.output
    assert "gate FAILED" in strict.output
    register_run = client.get_run(run_id_of(strict))
    assert register_run.data.tags["lifecycle.gate.decision"] == "failed"
    assert register_run.data.tags["lifecycle.champion_version"] == "1"
    champion = client.get_model_version_by_alias("gold_prices", "champion")
    assert champion.version == "1" or champion.version == 1
    assert champion.tags["lifecycle.gate.metric"] == "mase"
    assert client.get_model_version_by_alias("gold_prices", "challenger").version in ("1", 1)
    # The gate reports the Diebold-Mariano test against naive beside MASE.
    assert "Diebold-Mariano against naive" in loose.output
    gate_tags = champion.tags
    assert 0.0 <= float(gate_tags["lifecycle.gate.dm_vs_naive_p_value"]) <= 1.0
    assert metrics["dm_vs_naive_p_value"] == pytest.approx(
        float(gate_tags["lifecycle.gate.dm_vs_naive_p_value"])
    )
    # A ridge forecaster with a MASE a hair lower, on the same backtest days: the DM test
    # on the daily absolute errors decides, and calls that hair noise.
    ridge = invoke(
        "train",
        "--datasets-mirror",
        str(datasets_mirror),
        "--refit-every",
        "63",
        "--model",
        "ridge",
    )
    ridge_mase = client.get_run(run_id_of(ridge)).data.metrics["backtest_mase"]
    challenged = invoke("register", "--model-uri", f"runs:/{run_id_of(ridge)}/model")
    rows = int(metrics["backtest_rows"])
    assert f"Diebold-Mariano (HLN) on {rows} paired rows" in challenged.output
    version = client.get_model_version("gold_prices", "2")
    assert version.tags["lifecycle.promotion.test"] == "Diebold-Mariano (HLN)"
    p_value = float(version.tags["lifecycle.promotion.p_value"])
    decision = "promoted" if ridge_mase < metrics["backtest_mase"] and p_value < 0.05 else "kept"
    assert version.tags["lifecycle.promotion.decision"] == decision
    assert f"decision={decision}" in challenged.output
    assert_no_running_runs(store)


def test_a_custom_file_and_horizon(store: Store, datasets_mirror: Path, tmp_path: Path) -> None:
    source = datasets_mirror / "gold_prices" / "XAU_1d_data.csv"
    lines = source.read_bytes().decode().splitlines(keepends=True)
    custom = tmp_path / "recent.csv"
    custom.write_text("".join([lines[0], *lines[-800:]]), newline="")
    run_id = run_id_of(
        invoke("train", "--data-path", str(custom), "--horizon", "5", "--model", "ridge")
    )
    run = client_for(store).get_run(run_id)
    assert run.data.tags["data_pinned"] == "false"
    assert run.data.params["data_path"] == str(custom)
    assert run.data.params["horizon"] == "5"
    first_date = lines[-800].split(";")[0][:10].replace(".", "-")
    assert run.data.tags["data_first_date"] == first_date
    assert run.data.tags["data_dropped_partial_bar"] == "2025-06-06"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--horizon", "0"], "--horizon"),
        (["--model", "arima"], "--model"),
        (["--backtest-fraction", "1.5"], "--backtest-fraction"),
        (["--backtest-fraction", "0.99"], "--backtest-fraction"),
        (["--learning-rate", "0"], "--learning-rate"),
        (["--refit-every", "abc"], "--refit-every"),
    ],
)
def test_bad_parameters_exit_2_naming_the_option_and_log_nothing(
    store: Store, datasets_mirror: Path, args: list[str], flag: str
) -> None:
    result = CliRunner().invoke(cli, ["train", "--datasets-mirror", str(datasets_mirror), *args])
    assert result.exit_code == 2, result.output
    assert flag in result.output
    assert all_runs(store) == []


def test_a_bad_file_exits_1_with_the_reason_and_logs_nothing(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Date,Open,High,Low,Close,Volume\n2024-01-02,1,1,1,1,1\n")
    result = CliRunner().invoke(cli, ["train", "--data-path", str(bad)])
    assert result.exit_code == 1
    assert "another separator than ';'" in result.output
    assert all_runs(store) == []


@pytest.mark.parametrize("step", ["evaluate", "register"])
def test_steps_refuse_models_that_do_not_exist(store: Store, step: str) -> None:
    result = CliRunner().invoke(cli, [step, "--model-uri", "runs:/" + "0" * 32 + "/model"])
    assert result.exit_code == 1
    assert "does not name an existing model" in result.output


def test_register_refuses_a_registry_uri(store: Store) -> None:
    result = CliRunner().invoke(cli, ["register", "--model-uri", "models:/gold_prices@champion"])
    assert result.exit_code == 1
    assert "names a registered model version" in result.output

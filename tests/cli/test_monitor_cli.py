"""CLI tests of the monitor step, in-process against a temporary sqlite store: the
profile stored with a model and read back, drift and live performance on real data,
what the run and the version record, exit codes and bad input, per project."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner, Result

from lifecycle import contract
from tests.helpers import Store, assert_no_running_runs, client_for

IRIS_TABLE = Path(__file__).resolve().parents[2] / "datasets" / "iris.csv"
RUN_ID = r"[0-9a-f]{32}"


def invoke(cli: object, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)  # type: ignore[arg-type]


def run_id_of(result: Result) -> str:
    assert result.exit_code == 0, result.output
    match = re.search(rf"run_id=({RUN_ID})", result.output)
    assert match, result.output
    return match.group(1)


def iris_champion() -> str:
    from iris_workflow.cli import cli

    train_id = run_id_of(invoke(cli, "train"))
    run_id_of(invoke(cli, "register", "--model-uri", f"runs:/{train_id}/model"))
    return train_id


def shifted_iris(folder: Path) -> Path:
    """The iris table with both petal measurements 30 % larger: the documented shift."""
    frame = pd.read_csv(IRIS_TABLE)
    frame[["petal_length", "petal_width"]] *= 1.3
    path = folder / "shifted.csv"
    frame.to_csv(path, index=False)
    return path


def test_iris_stores_its_profile_and_monitors_a_batch_from_it(store: Store) -> None:
    import mlflow

    from iris_workflow import core
    from iris_workflow.cli import cli
    from lifecycle.monitor.drift import Profile

    train_id = iris_champion()
    stored = Profile.from_json(
        mlflow.artifacts.load_text(f"runs:/{train_id}/{contract.REFERENCE_PROFILE}")
    )
    table = core.validate_frame(pd.read_csv(IRIS_TABLE))
    train_split, _ = core.split_frame(table, 0.3, 42)
    assert stored == Profile.from_json(core.reference_profile(train_split, 42).to_json())
    assert stored.rows == 111

    result = invoke(cli, "monitor", "--input", str(IRIS_TABLE), "--batch-date", "2026-01-15")
    monitor_id = run_id_of(result)
    assert "status=ok drift=none" in result.output
    assert "performance=no truth" in result.output
    client = client_for(store)
    run = client.get_run(monitor_id)
    assert run.data.tags[contract.STEP] == "monitor"
    assert run.data.tags[contract.MODEL_URI] == "models:/iris/1"
    assert run.data.tags[contract.monitor("drift")] == "none"
    assert run.data.tags[contract.monitor("performance")] == "no truth"
    # Metrics carry the batch's date, and are linked to the version's logged model.
    version = client.get_model_version("iris", "1")
    (p_value,) = client.get_metric_history(monitor_id, "drift/petal_length/p_value")
    assert p_value.timestamp == int(pd.Timestamp("2026-01-15", tz="UTC").timestamp() * 1000)
    assert p_value.model_id == version.model_id
    assert version.tags[contract.monitor("status")] == "ok"
    assert version.tags[contract.monitor("run_id")] == monitor_id
    report = json.loads(mlflow.artifacts.load_text(f"runs:/{monitor_id}/monitor/report.json"))
    assert report["model_uri"] == "models:/iris/1"
    assert len(report["drift_report"]["features"]) == 4
    assert {item.path for item in client.list_artifacts(monitor_id, "monitor")} == {
        "monitor/report.json",
        "monitor/report.html",
        "monitor/drift.png",
    }


def test_iris_shifted_and_labelled_batch_is_degraded_and_fails_as_asked(
    store: Store, tmp_path: Path
) -> None:
    from iris_workflow.cli import cli

    iris_champion()
    shifted = str(shifted_iris(tmp_path))
    result = invoke(cli, "monitor", "--input", shifted, "--truth", shifted, "--fail-on", "drift")
    assert result.exit_code == 3, result.output
    assert "status=degraded: status degraded reaches fail_on=drift" in result.output
    assert "petal_length, petal_width" in result.output
    client = client_for(store)
    (run,) = [
        run
        for run in client.search_runs([store.experiment_id])
        if run.data.tags.get(contract.STEP) == "monitor"
    ]
    assert run.info.status == "FAILED"
    assert "reaches fail_on=drift" in run.data.tags[contract.FAILURE_REASON]
    assert run.data.tags[contract.monitor("status")] == "degraded"
    assert run.data.tags[contract.monitor("drifted_features")] == "petal_length,petal_width"
    metrics = run.data.metrics
    assert metrics["live_accuracy"] < 0.85
    assert metrics["heldout_accuracy"] == pytest.approx(37 / 39)
    assert metrics["live_p_value"] < 0.05
    assert client.get_model_version("iris", "1").tags[contract.monitor("status")] == "degraded"
    assert_no_running_runs(store)


def test_truth_the_model_cannot_judge_is_refused_by_name(store: Store, tmp_path: Path) -> None:
    """Labels the model does not know, or that differ only in case, are not errors of
    the model; a single species is valid feedback; a missing column is named without the
    reader's own columns."""
    from iris_workflow.cli import cli

    iris_champion()
    table = pd.read_csv(IRIS_TABLE)
    batch = tmp_path / "batch.csv"
    table.drop(columns=["species"]).to_csv(batch, index=False)
    for label, expected in (
        ("unicorn", "label(s) the model does not know: 'unicorn'"),
        ("Setosa", "'Setosa' (did you mean 'setosa'?)"),
    ):
        truth = tmp_path / f"{label}.csv"
        table.assign(species=table["species"].where(table.index % 7 != 3, label)).to_csv(
            truth, index=False
        )
        result = invoke(cli, "monitor", "--input", str(batch), "--truth", str(truth))
        assert result.exit_code == 1, result.output
        assert expected in result.output
        assert "degraded" not in result.output
    setosa = tmp_path / "setosa.csv"
    table[table["species"] == "setosa"].to_csv(setosa, index=False)
    result = invoke(cli, "monitor", "--input", str(setosa), "--truth", str(setosa))
    assert result.exit_code == 0, result.output
    assert "performance=ok" in result.output
    unlabelled = tmp_path / "unlabelled.csv"
    table.drop(columns=["species"]).to_csv(unlabelled, index=False)
    result = invoke(cli, "monitor", "--input", str(batch), "--truth", str(unlabelled))
    assert result.exit_code == 1
    assert "missing column(s) species" in result.output
    assert "source_row" not in result.output


def test_a_later_batch_keeps_its_status_on_the_version(store: Store, tmp_path: Path) -> None:
    from iris_workflow.cli import cli

    iris_champion()
    shifted = str(shifted_iris(tmp_path))
    run_id_of(invoke(cli, "monitor", "--input", shifted, "--batch-date", "2026-02-01"))
    run_id_of(invoke(cli, "monitor", "--input", str(IRIS_TABLE), "--batch-date", "2026-01-01"))
    tags = client_for(store).get_model_version("iris", "1").tags
    assert tags[contract.monitor("status")] == "drift"
    assert tags[contract.monitor("batch_date")] == "2026-02-01"


def test_a_version_without_a_profile_is_monitored_as_unjudged(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from iris_workflow import tracking
    from iris_workflow.cli import cli

    monkeypatch.setattr(tracking, "log_profile", lambda profile: None)  # an older model
    iris_champion()
    result = invoke(cli, "monitor", "--input", str(IRIS_TABLE))
    run_id_of(result)
    assert "status=unjudged drift=unjudged" in result.output
    assert "carries no reference profile" in result.output
    refused = invoke(cli, "monitor", "--input", str(IRIS_TABLE), "--fail-on", "drift")
    assert refused.exit_code == 3
    assert "drift cannot be judged" in refused.output
    assert "fails closed" in refused.output
    assert_no_running_runs(store)


def test_bad_input_fails_the_run_with_a_reason(store: Store, tmp_path: Path) -> None:
    from iris_workflow.cli import cli, main

    iris_champion()
    frame = pd.read_csv(IRIS_TABLE).drop(columns=["petal_width"])
    lacking = tmp_path / "lacking.csv"
    frame.to_csv(lacking, index=False)
    import sys

    for bad in (str(lacking), str(tmp_path / "absent.csv")):
        sys_argv = ["iris_workflow", "monitor", "--input", bad]
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sys, "argv", sys_argv)
            with pytest.raises(SystemExit) as exited:
                main()
        assert exited.value.code == 1
    client = client_for(store)
    failed = [
        run
        for run in client.search_runs([store.experiment_id])
        if run.data.tags.get(contract.STEP) == "monitor"
    ]
    assert {run.info.status for run in failed} == {"FAILED"}
    reasons = sorted(run.data.tags[contract.FAILURE_REASON] for run in failed)
    assert any("petal_width" in reason for reason in reasons)
    assert any("does not exist" in reason for reason in reasons)
    assert not any("Traceback" in reason for reason in reasons)
    # A usage error is refused before any run.
    assert invoke(cli, "monitor", "--input", "x.csv", "--monitor-alpha", "0.9").exit_code == 2
    assert_no_running_runs(store)


def test_a_score_output_is_monitored_as_its_manifest_lists_it_or_refused(
    store: Store, tmp_path: Path
) -> None:
    """A score output is read as its manifest lists it: one holding a part it does not
    list (another tool's, or a copy), or without a manifest (what a SIGKILL leaves), is
    refused with the reason, never read as a batch."""
    import shutil

    from iris_workflow.cli import cli

    iris_champion()
    output = tmp_path / "scored"
    run_id_of(invoke(cli, "score", "--input", str(IRIS_TABLE), "--output", str(output)))
    assert "rows=150 status=" in invoke(cli, "monitor", "--input", str(output)).output
    (part,) = output.glob("part-*.parquet")
    stray = output / "part-00001-3c5e2b1a-uuid-c000.snappy.parquet"
    shutil.copy(part, stray)
    refused = invoke(cli, "monitor", "--input", str(output))
    assert refused.exit_code == 1
    assert "which its manifest does not list" in refused.output
    stray.unlink()
    (output / "_SUCCESS").unlink()
    refused = invoke(cli, "monitor", "--input", str(output))
    assert refused.exit_code == 1
    assert "has no manifest of a score job" in refused.output
    assert_no_running_runs(store)


def test_cities_monitors_a_city_table_and_not_requests(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    from cities_workflow.cli import cli

    train_id = run_id_of(invoke(cli, "train"))
    run_id_of(invoke(cli, "register", "--model-uri", f"runs:/{train_id}/model"))
    table = pd.read_csv(datasets_mirror / "cities" / "Worldwide_Travel_Cities_Dataset.csv")
    europe = tmp_path / "europe.csv"
    table[table["region"] == "europe"].to_csv(europe, index=False)
    result = invoke(cli, "monitor", "--input", str(europe))
    run_id_of(result)
    assert "status=drift" in result.output
    assert "region" in result.output
    requests = tmp_path / "requests.csv"
    pd.DataFrame(
        {"month": [7], "preferred_temp": [24.0], "budget_level": ["Budget"], "trip_days": [5]}
    ).to_csv(requests, index=False)
    unjudged = invoke(cli, "monitor", "--input", str(requests))
    run_id_of(unjudged)
    assert "status=unjudged" in unjudged.output
    assert "traveller requests" in unjudged.output
    refused = invoke(cli, "monitor", "--input", str(europe), "--truth", str(europe))
    assert refused.exit_code == 2
    assert "no live feedback" in refused.output
    assert_no_running_runs(store)


def test_gold_trained_to_a_cutoff_is_monitored_on_the_months_after_it(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    from gold_workflow.cli import cli

    source = datasets_mirror / "gold_prices" / "XAU_1d_data.csv"
    trained = invoke(cli, "train", "--cutoff-date", "2024-12-31")
    train_id = run_id_of(trained)
    client = client_for(store)
    run = client.get_run(train_id)
    assert run.data.tags["data_last_date"] == "2024-12-31"
    assert run.data.params["cutoff_date"] == "2024-12-31"
    model_uri = f"runs:/{train_id}/model"
    prices = pd.read_csv(source, sep=";")
    recent = tmp_path / "recent.csv"
    prices[prices["Date"] >= "2024.09.01"].to_csv(recent, sep=";", index=False)
    output = tmp_path / "forecasts"
    run_id_of(
        invoke(
            cli, "score", "--input", str(recent), "--output", str(output), "--model-uri", model_uri
        )
    )
    result = invoke(
        cli, "monitor", "--input", str(output), "--truth", str(source), "--model-uri", model_uri
    )
    monitor_id = run_id_of(result)
    assert "batch_date=2025-06-06" in result.output
    assert "status=drift" in result.output  # the 2025 rally is far from 2004-2024
    metrics = client.get_run(monitor_id).data.metrics
    assert 0.8 < metrics["live_mase"] < 1.2
    assert metrics["live_rows"] > 100
    assert "live_dm_better_p_value" in metrics
    tags = client.get_run(monitor_id).data.tags
    assert tags[contract.monitor("performance")] in ("ok", "degraded")
    assert tags[contract.monitor("live_metric")] == "live_mase"
    # The forecasts are that model's: another model may judge their drift, but its live
    # check refuses them.
    other = f"runs:/{run_id_of(invoke(cli, 'train', '--cutoff-date', '2024-06-28'))}/model"
    run_id_of(invoke(cli, "monitor", "--input", str(output), "--model-uri", other))
    refused = invoke(
        cli, "monitor", "--input", str(output), "--truth", str(source), "--model-uri", other
    )
    assert refused.exit_code == 1
    assert "monitor the version that scored it" in refused.output
    # A date that is no calendar date is refused before any run.
    assert invoke(cli, "train", "--cutoff-date", "2024-02-30").exit_code == 2
    assert_no_running_runs(store)


def test_the_orchestrator_looks_for_score_runs_where_steps_log(store: Store) -> None:
    """A score run made with ``python -m`` and no experiment named logs to the
    collection's experiment: the orchestrator's monitor looks there too, and says where
    it looked when it finds none."""
    from types import SimpleNamespace

    from orchestrator.watch import latest_score_output, score_experiments

    client = client_for(store)
    collection = client.create_experiment(contract.EXPERIMENT)
    runner = SimpleNamespace(experiment_id=store.experiment_id, client=client)
    searched = score_experiments(runner)  # type: ignore[arg-type]
    assert searched == [store.experiment_id, collection]
    scored = client.create_run(
        collection,
        tags={contract.PROJECT: "iris", contract.STEP: "score", contract.OUTPUT: "/nowhere/out"},
    )
    client.set_terminated(scored.info.run_id)
    with pytest.raises(LookupError, match="the latest iris score output cannot be monitored"):
        latest_score_output(client, searched, "iris")
    with pytest.raises(LookupError) as none_found:
        latest_score_output(client, searched, "cities")
    assert (
        f"no finished cities score run to monitor in experiment(s) 'tests' ({store.experiment_id}),"
        f" '{contract.EXPERIMENT}' ({collection})" in str(none_found.value)
    )


def test_a_batch_of_nothing_is_unjudged_and_a_tiny_one_says_its_size(
    store: Store, tmp_path: Path
) -> None:
    """An all-missing batch is not "ok, 0 of 0 features drifted": drift is unjudged and
    fail_on=drift fails closed. A one-row batch is judged, and says the calibration
    starts at 50 rows."""
    from iris_workflow.cli import cli

    iris_champion()
    empty = tmp_path / "empty.csv"
    empty.write_text("sepal_length,sepal_width,petal_length,petal_width\n" + ",,,\n" * 20)
    result = invoke(cli, "monitor", "--input", str(empty), "--fail-on", "drift")
    assert result.exit_code == 3, result.output
    assert "drift cannot be judged (the batch's 20 row(s) hold no value of any profiled" in (
        result.output
    )
    one = tmp_path / "one.csv"
    pd.read_csv(IRIS_TABLE).drop(columns=["species"]).head(1).to_csv(one, index=False)
    result = invoke(cli, "monitor", "--input", str(one), "--fail-on", "drift")
    assert result.exit_code == 0, result.output
    assert "the batch holds 1 row(s); the false-alarm rate is measured for batches of 50" in (
        result.output
    )

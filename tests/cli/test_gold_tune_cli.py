"""CLI tests: gold_prices tune with the local engine, in-process, against a temporary
sqlite store: the study's trials as child runs, the best configuration logged as train
logs a model, resuming by name, refusing another grid, and the hand-off to register."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner, Result

from gold_workflow.cli import cli
from tests.helpers import Store, client_for

GRID = [
    "--models",
    "linear_regression,ridge",
    "--alpha-grid",
    "0.1,10,1000",
    "--refit-every",
    "252",
]


def tune(datasets_mirror: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["tune", "--datasets-mirror", str(datasets_mirror), *GRID, *args],
        catch_exceptions=False,
    )


def field(result: Result, name: str) -> str:
    match = re.search(rf"\b{name}=(\S+)", result.stdout)
    assert match, result.output
    return match.group(1)


def test_a_study_runs_resumes_by_name_and_hands_its_best_model_to_register(
    store: Store, datasets_mirror: Path
) -> None:
    client = client_for(store)
    first = tune(datasets_mirror, "--trials", "2", "--study-name", "gold-a")
    assert first.exit_code == 0, first.output
    first_run = field(first, "run_id")
    assert field(first, "study_run_id") == first_run
    assert (field(first, "trials_run"), field(first, "trials_completed")) == ("2", "2")

    second = tune(datasets_mirror, "--trials", "5", "--study-name", "gold-a")
    assert second.exit_code == 0, second.output
    second_run = field(second, "run_id")
    assert field(second, "study_run_id") == first_run
    assert (field(second, "trials_run"), field(second, "trials_completed")) == ("2", "4")

    children = client.search_runs(
        [store.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{first_run}'"
    )
    assert len(children) == 4
    assert {c.info.status for c in children} == {"FINISHED"}
    assert {c.data.tags["lifecycle.step"] for c in children} == {"tune.trial"}
    # Named for the UI: the study run after its study, each trial by its number.
    assert client.get_run(first_run).info.run_name == "gold_prices · tune · study gold-a"
    assert client.get_run(second_run).info.run_name == "gold_prices · tune"
    assert sorted(c.info.run_name.rsplit(" · ", 1)[0] for c in children) == [
        f"gold_prices · tune · trial {number}" for number in range(4)
    ]
    recipes = sorted((c.data.params["model"], c.data.params["alpha"]) for c in children)
    assert recipes == [
        ("linear_regression", "1.0"),
        ("ridge", "0.1"),
        ("ridge", "10.0"),
        ("ridge", "1000.0"),
    ]
    best = min(children, key=lambda c: c.data.metrics["value"])
    tuned = client.get_run(second_run)
    assert tuned.data.tags["lifecycle.step"] == "tune"
    assert tuned.data.tags["lifecycle.study"] == "gold-a"
    assert tuned.data.tags["lifecycle.study_run_id"] == first_run
    assert tuned.data.tags["best_trial_run_id"] == best.info.run_id
    assert tuned.data.params["model"] == best.data.params["model"]
    assert tuned.data.params["alpha"] == best.data.params["alpha"]
    assert abs(tuned.data.metrics["backtest_mase"] - best.data.metrics["value"]) < 1e-12
    assert client.list_artifacts(second_run, "backtest")  # logged as train logs it

    registered = CliRunner().invoke(
        cli, ["register", "--model-uri", field(second, "model_uri")], catch_exceptions=False
    )
    assert registered.exit_code == 0, registered.output
    assert "version=1" in registered.stdout


def test_resuming_with_another_grid_is_refused(store: Store, datasets_mirror: Path) -> None:
    assert tune(datasets_mirror, "--trials", "1", "--study-name", "gold-b").exit_code == 0
    other = CliRunner().invoke(
        cli,
        [
            "tune",
            "--datasets-mirror",
            str(datasets_mirror),
            "--study-name",
            "gold-b",
            "--models",
            "ridge",
            "--refit-every",
            "252",
        ],
    )
    assert other.exit_code == 1
    assert "study 'gold-b' was created with another grid or recipe" in other.output


def test_a_study_made_before_run_names_is_resumed_under_its_own_name(
    store: Store, datasets_mirror: Path
) -> None:
    client = client_for(store)
    first = tune(datasets_mirror, "--trials", "1", "--study-name", "gold-c")
    assert first.exit_code == 0, first.output
    study_run = field(first, "study_run_id")
    # Earlier releases named the study's run after the study alone.
    client.set_tag(study_run, "mlflow.runName", "gold-c")
    again = tune(datasets_mirror, "--trials", "1", "--study-name", "gold-c")
    assert again.exit_code == 0, again.output
    assert field(again, "study_run_id") == study_run
    assert (field(again, "trials_run"), field(again, "trials_completed")) == ("1", "2")

"""End-to-end: the orchestrator's monitor entry point through the real ``mlflow run .
-e monitor``: it monitors each champion on its latest score output, prints the summary,
and retrains where the policy says so, the project's own gate and champion rule
deciding; a project it cannot check fails alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from lifecycle import contract
from tests.helpers import (
    REPO_ROOT,
    Store,
    all_runs,
    assert_no_running_runs,
    client_for,
    run_cli,
    shifted_iris,
)

pytestmark = pytest.mark.e2e


def invoke(*args: str) -> str:
    from iris_workflow.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_degraded_champion_is_retrained_and_the_retrain_wins_on_shared_unseen_rows(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    """The loop, closed: a champion trained on the original table degrades on a batch
    from a shifted population (petals 30 % larger, species kept); monitor retrains it on
    the table plus the labelled batch, and the retrained model is promoted on the rows
    neither model trained on. A project it cannot check fails alone."""
    train_id = re.search(r"run_id=(\w+)", invoke("train")).group(1)  # type: ignore[union-attr]
    invoke("register", "--model-uri", f"runs:/{train_id}/model")
    labelled, grown = shifted_iris(300, seed=0)
    truth, batch, table = tmp_path / "truth.csv", tmp_path / "batch.csv", tmp_path / "table.csv"
    labelled.to_csv(truth, index=False)
    labelled.drop(columns=["species"]).to_csv(batch, index=False)
    grown.to_csv(table, index=False)

    params = f"iris.input={batch},iris.truth={truth},iris.data_path={table}"
    result = run_cli(
        [
            *("mlflow", "run", ".", "-e", "monitor", "--env-manager", "local"),
            *("-P", "projects=iris,cities", "-P", "retrain=degraded", "-P", f"params={params}"),
        ],
        store,
        REPO_ROOT,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert result.returncode != 0  # cities has nothing to monitor
    assert re.search(r"^iris\s+models:/iris/1\s+degraded\s", result.stdout, re.M), result.stdout
    assert "retrained: version 2 promoted p=" in result.stdout
    assert "champion 2" in result.stdout
    assert re.search(
        r"iris: retrained version 2 compared with the champion on \d+ shared unseen rows "
        r"\(ids digest [0-9a-f]{12}\): promoted",
        result.stdout,
    ), result.stdout
    assert "cities: monitor failed: no input given and no finished cities score run" in (
        result.stdout
    )
    runs = all_runs(store)
    (parent,) = [run for run in runs if run.data.tags.get(contract.STEP) == "orchestrator.monitor"]
    assert parent.info.status == "FAILED"
    assert "cities: monitor failed" in parent.data.tags[contract.FAILURE_REASON]
    assert "compared with the champion on" in parent.data.tags["mlflow.note.content"]
    children = [
        run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    ]
    steps = sorted(run.data.tags[contract.STEP] for run in children)
    assert steps == ["evaluate", "monitor", "register", "train"]
    (check,) = [run for run in children if run.data.tags[contract.STEP] == "monitor"]
    assert check.data.params["input"] == str(batch)
    assert check.data.params["fail_on"] == "none"
    (retrained,) = [run for run in children if run.data.tags[contract.STEP] == "train"]
    assert retrained.data.params["data_path"] == str(table)
    (register,) = [run for run in children if run.data.tags[contract.STEP] == "register"]
    assert register.data.tags[contract.promotion("decision")] == "promoted"
    assert register.data.tags[contract.promotion("compared_on")].endswith(")")
    champion = client_for(store).get_model_version_by_alias("iris", "champion")
    assert str(champion.version) == "2"
    assert (
        client_for(store).get_model_version("iris", "1").tags[contract.monitor("status")]
        == "degraded"
    )
    assert_no_running_runs(store)

"""End-to-end: the orchestrator's monitor entry point through the real ``mlflow run .
-e monitor``: it monitors each champion on its latest score output, prints the summary,
and retrains where the policy says so, the project's own gate and champion rule
deciding; a project it cannot check fails alone."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from lifecycle import contract
from tests.helpers import REPO_ROOT, Store, all_runs, assert_no_running_runs, client_for, run_cli

pytestmark = pytest.mark.e2e


def invoke(*args: str) -> str:
    from iris_workflow.cli import cli

    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_degraded_champion_is_retrained_and_the_champion_rule_decides(
    store: Store, tmp_path: Path, datasets_mirror: Path
) -> None:
    train_id = re.search(r"run_id=(\w+)", invoke("train")).group(1)  # type: ignore[union-attr]
    invoke("register", "--model-uri", f"runs:/{train_id}/model")
    labelled = pd.read_csv(REPO_ROOT / "datasets" / "iris.csv")
    labelled[["petal_length", "petal_width"]] *= 1.3
    batch = tmp_path / "shifted.csv"
    labelled.to_csv(batch, index=False)
    invoke("score", "--input", str(batch), "--output", str(tmp_path / "scored"))

    result = run_cli(
        [
            *("mlflow", "run", ".", "-e", "monitor", "--env-manager", "local"),
            *("-P", "projects=iris,cities", "-P", "retrain=degraded"),
            *("-P", f"params=iris.truth={batch},iris.model=logistic_regression"),
        ],
        store,
        REPO_ROOT,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert result.returncode != 0  # cities has nothing to monitor
    assert re.search(r"^iris\s+models:/iris/1\s+degraded\s", result.stdout, re.M), result.stdout
    assert "cities: monitor failed: no input given and no finished cities score run" in (
        result.stdout
    )
    runs = all_runs(store)
    (parent,) = [run for run in runs if run.data.tags.get(contract.STEP) == "orchestrator.monitor"]
    assert parent.info.status == "FAILED"
    assert "cities: monitor failed" in parent.data.tags[contract.FAILURE_REASON]
    children = [
        run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id
    ]
    steps = sorted(run.data.tags[contract.STEP] for run in children)
    assert steps == ["evaluate", "monitor", "register", "train"]
    (check,) = [run for run in children if run.data.tags[contract.STEP] == "monitor"]
    assert check.data.params["input"] == str(tmp_path / "scored")  # the latest score output
    assert check.data.params["fail_on"] == "none"
    (retrained,) = [run for run in children if run.data.tags[contract.STEP] == "train"]
    assert retrained.data.params["model"] == "logistic_regression"
    (register,) = [run for run in children if run.data.tags[contract.STEP] == "register"]
    decision = register.data.tags[contract.promotion("decision")]
    champion = str(client_for(store).get_model_version_by_alias("iris", "champion").version)
    expected = "2" if decision == "promoted" else "1"
    assert champion == expected
    assert f"retrained: version 2 {decision}" in result.stdout
    assert f"champion {expected}" in result.stdout
    assert (
        client_for(store).get_model_version("iris", "1").tags[contract.monitor("status")]
        == "degraded"
    )
    assert_no_running_runs(store)

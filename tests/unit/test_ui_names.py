"""What a user reads in MLflow's UI, built without a store: run names, the links in the
training view, the parent's Markdown description and a version's description."""

from __future__ import annotations

import pytest

from lifecycle import contract
from lifecycle.register.contest import Registration, version_description
from lifecycle.register.rule import FIRST, PROMOTED, Measurement
from lifecycle.register.rule import ChampionRule as Rule
from lifecycle.significance import PairedTest
from lifecycle.step import runs
from orchestrator import render
from orchestrator.summary import ChainResult, summary_markdown


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (contract.run_name("iris", "train"), "iris · train"),
        (contract.run_name("gold_prices", "register"), "gold_prices · register"),
        (contract.run_name("cities", "train", "reused"), "cities · train · reused"),
        (contract.trial_name("iris", 7), "iris · tune · trial 7"),
        (
            contract.trial_name("iris", 0, "leaves=8 depth=3"),
            "iris · tune · trial 0 · leaves=8 depth=3",
        ),
        (contract.run_name(contract.ORCHESTRATOR, "monitor"), "orchestrator · monitor"),
    ],
)
def test_run_names_follow_the_convention(name: str, expected: str) -> None:
    assert name == expected


def test_step_tags_name_the_run() -> None:
    assert contract.step_tags("iris", "score") == {
        contract.PROJECT: "iris",
        contract.STEP: "score",
        contract.RUN_NAME: "iris · score",
    }


def test_links_open_the_training_view_on_the_server_or_mlflow_ui() -> None:
    assert runs.ui_base("http://team:5000/") == "http://team:5000"
    assert runs.ui_base("sqlite:///mlflow.db") == runs.DEFAULT_UI
    assert (
        runs.run_link("http://h", "3", "abc")
        == "http://h/#/experiments/3/runs/abc?workflowType=machine_learning"
    )
    assert runs.experiment_link("http://h", "3").endswith(
        "/#/experiments/3?workflowType=machine_learning"
    )
    assert runs.model_link("http://h", "my model") == (
        "http://h/#/models/my%20model?workflowType=machine_learning"
    )


def test_markdown_links_run_ids_and_escapes_pipes() -> None:
    text = render.markdown(
        "Title", ("a", "b"), [["r1", "x | y"]], ["a note"], {"r1": "#/experiments/1/runs/r1"}
    )
    assert text.splitlines() == [
        "### Title",
        "",
        "| a | b |",
        "| --- | --- |",
        "| [r1](#/experiments/1/runs/r1) | x \\| y |",
        "",
        "- a note",
    ]


def test_the_parent_description_is_the_summary_with_linked_runs() -> None:
    result = ChainResult(
        project="iris",
        run_ids={"train": "t1", "evaluate": "e1", "register": "g1"},
        gate_decision="passed",
        gate_summary="gate PASSED: accuracy 0.9333 >= 0.9000",
        cache={"train": "hit", "evaluate": "hit", "register": "hit"},
    )
    text = summary_markdown([result], "Orchestrator: iris", "5")
    assert text.startswith("### Orchestrator: iris\n")
    assert "[t1](#/experiments/5/runs/t1?workflowType=machine_learning)" in text
    assert "| hit/hit/hit |" in text
    assert "- step cache: 3 hit, 0 miss, 0 forced, 0 off" in text


def test_a_version_description_says_gate_decision_and_data() -> None:
    test = PairedTest("McNemar exact", 3.0, 0.0123, rows=45, better=4, worse=0)
    rule = Rule("accuracy", True, "McNemar exact", lambda a, b: test, 0.05)
    promoted = Registration("2", "1", "2", "beats the champion", 0.9, rule, test)
    text = version_description(
        promoted, "gate PASSED: accuracy 0.95 >= 0.90", Measurement(0.95, "rows X")
    )
    assert text.splitlines()[0] == "**Gate:** gate PASSED: accuracy 0.95 >= 0.90"
    assert f"**Promotion:** {PROMOTED} (McNemar exact: p=0.0123 at alpha 0.05)" in text
    assert "champion was version 1, accuracy=0.9000" in text
    assert "**Measured on:** rows X: accuracy=0.9500" in text
    first = Registration("1", None, "1", "no champion yet", None, rule, None)
    assert f"**Promotion:** {FIRST}: no champion yet (before this step there was no champion" in (
        version_description(first, "gate PASSED", Measurement(0.9, "rows X"))
    )

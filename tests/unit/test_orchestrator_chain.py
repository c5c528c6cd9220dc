"""Unit tests of the orchestrator's chain: step order, hand-offs and failure isolation,
with ``mlflow.projects.run`` replaced by a recorder."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator import chain


class FakeClient:
    def __init__(self, runs: dict[str, SimpleNamespace]) -> None:
        self.runs = runs

    def get_run(self, run_id: str) -> SimpleNamespace:
        return self.runs[run_id]


def fake_run(metrics=None, tags=None) -> SimpleNamespace:
    return SimpleNamespace(data=SimpleNamespace(metrics=metrics or {}, tags=tags or {}))


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    import mlflow

    calls: list[tuple[str, dict]] = []
    runs = {
        "t": fake_run(
            {"test_accuracy": 0.95, "train_accuracy": 1.0}, {"key_metrics": "test_accuracy"}
        ),
        "e": fake_run(),
        "r": fake_run(
            tags={
                "gate.decision": "passed",
                "gate.metric": "accuracy",
                "gate.value": "0.95",
                "registered_version": "4",
                "champion_version": "4",
                "gate.summary": "gate PASSED: accuracy 0.9500 >= 0.9000",
            }
        ),
    }

    def run(uri, entry_point, parameters, **kwargs):
        calls.append((entry_point, dict(parameters)))
        if entry_point == "evaluate" and "fail" in uri:
            raise RuntimeError("uv: environment could not be built")
        return SimpleNamespace(run_id=entry_point[0])

    monkeypatch.setattr(mlflow.projects, "run", run)
    monkeypatch.setattr(mlflow, "MlflowClient", lambda: FakeClient(runs))
    return calls


def test_steps_run_in_order_and_hand_off_the_model_uri(recorded: list) -> None:
    result = chain.run_chain(Path("/repo/iris"), "local", "1")
    assert recorded == [
        ("train", {}),
        ("evaluate", {"model_uri": "runs:/t/model"}),
        ("register", {"model_uri": "runs:/t/model"}),
    ]
    assert result.ok
    assert result.run_ids == {"train": "t", "evaluate": "e", "register": "r"}
    assert result.metrics == {"test_accuracy": 0.95}
    assert (result.gate_decision, result.gate_value) == ("passed", 0.95)
    assert (result.registered_version, result.champion_version) == ("4", "4")
    assert result.gate_summary == "gate PASSED: accuracy 0.9500 >= 0.9000"


def test_any_exception_fails_only_this_chain(recorded: list) -> None:
    result = chain.run_chain(Path("/repo/fail"), "uv", "1")
    assert not result.ok
    assert result.failed_step == "evaluate"
    assert "environment could not be built" in result.error
    assert [step for step, _ in recorded] == ["train", "evaluate"]

"""Unit tests of the orchestrator's pure helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator import core


def test_discovers_folders_with_an_mlproject(tmp_path: Path) -> None:
    for name in ("iris", "cities", ".hidden", "notes"):
        (tmp_path / name).mkdir()
    for name in ("iris", "cities", ".hidden"):
        (tmp_path / name / "MLproject").write_text("name: x\n")
    assert core.discover_projects(tmp_path) == ["cities", "iris"]


def test_discovers_the_repository_projects() -> None:
    root = Path(__file__).resolve().parents[2]
    assert "iris" in core.discover_projects(root)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        ("all", ["cities", "iris"]),
        ("iris", ["iris"]),
        (" iris , cities ", ["iris", "cities"]),
        ("iris,iris", ["iris"]),
    ],
)
def test_select_projects(requested: str, expected: list[str]) -> None:
    assert core.select_projects(requested, ["cities", "iris"]) == expected


@pytest.mark.parametrize("requested", ["", " , ", "iris,nope"])
def test_select_projects_rejects_unknown_or_empty(requested: str) -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.select_projects(requested, ["cities", "iris"])
    assert caught.value.name == "projects"
    assert "iris" in caught.value.allowed


def test_env_manager_must_be_known() -> None:
    assert core.validate_env_manager("uv") == "uv"
    with pytest.raises(core.ParameterError, match="local, uv, virtualenv, conda"):
        core.validate_env_manager("docker")


def test_model_uri_and_failed_run_id() -> None:
    assert core.model_uri_for("abc123") == "runs:/abc123/model"
    assert core.failed_run_id("Run (ID '0f1e2d') failed") == "0f1e2d"
    assert core.failed_run_id("something else") is None


def test_summary_table_has_a_row_per_project_and_explains_failures() -> None:
    good = core.ChainResult(
        project="iris",
        run_ids={"train": "t1", "evaluate": "e1", "register": "r1"},
        metrics={"test_accuracy": 0.97},
        gate_metric="accuracy",
        gate_value=0.97,
        gate_decision="passed",
        registered_version="2",
        champion_version="2",
        gate_summary="gate PASSED: accuracy 0.9700 >= 0.9000",
    )
    bad = core.ChainResult(
        project="cities", run_ids={"train": "t2"}, failed_step="train", error="boom"
    )
    table = core.format_summary([good, bad])
    lines = table.splitlines()
    assert lines[0].split() == [
        "project",
        "status",
        "train",
        "run",
        "evaluate",
        "run",
        "register",
        "run",
        "key",
        "metrics",
        "gate",
        "version",
        "champion",
    ]
    iris_row = lines[2].split()
    assert iris_row[:5] == ["iris", "ok", "t1", "e1", "r1"]
    assert "test_accuracy=0.9700" in lines[2]
    assert "passed accuracy=0.9700" in lines[2]
    assert iris_row[-2:] == ["2", "2"]
    assert "FAILED at train" in lines[3]
    assert lines[-2] == "iris: gate PASSED: accuracy 0.9700 >= 0.9000"
    assert lines[-1] == "cities: train failed: boom"
    records = json.loads(core.summary_json([good, bad]))
    assert [record["ok"] for record in records] == [True, False]

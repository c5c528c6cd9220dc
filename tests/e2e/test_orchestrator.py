"""End-to-end: the orchestrator through the real ``mlflow run .``, nesting every step
under one parent run, and isolating a failing project from the others."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from lifecycle import contract
from tests.helpers import REPO_ROOT, Store, all_runs, assert_no_running_runs, client_for, run_cli

pytestmark = pytest.mark.e2e


def parent_and_children(store: Store) -> tuple[object, list]:
    runs = all_runs(store)
    parents = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    assert len(parents) == 1, [run.data.tags.get("mlflow.project.entryPoint") for run in runs]
    children = [run for run in runs if run.data.tags.get("mlflow.parentRunId")]
    return parents[0], children


def step_line(label: str, outcome: str, output: str) -> bool:
    """Whether ``output`` holds the step line ``HH:MM:SS  <label>  <outcome>``."""
    return re.search(rf"^\d\d:\d\d:\d\d  {label}\s+{outcome}$", output, re.M) is not None


def test_orchestrator_chains_train_evaluate_register_under_one_parent(
    store: Store, datasets_mirror: Path
) -> None:
    import mlflow

    result = run_cli(
        ["mlflow", "run", ".", "--env-manager", "local"],
        store,
        REPO_ROOT,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert result.returncode == 0, result.stderr[-4000:]
    parent, children = parent_and_children(store)
    assert parent.info.status == "FINISHED"
    # mlflow run logs parameter values shell-quoted, so the empty default shows as ''
    assert parent.data.params == {
        "projects": "all",
        "env_manager": "local",
        "experiment_name": "''",
        "params": "''",
        "max_parallel": "0",
        "use_cache": "true",
        "force": "none",
    }
    assert parent.data.metrics["cache_miss"] == 9
    assert parent.data.tags["orchestrator.max_parallel"] == str(os.cpu_count())
    assert {child.data.tags["mlflow.parentRunId"] for child in children} == {parent.info.run_id}
    assert all(child.info.status == "FINISHED" for child in children)
    projects = parent.data.tags["orchestrator.projects"].split(",")
    assert set(projects) == {"cities", "gold_prices", "iris"}
    assert len(children) == 3 * len(projects)

    summary = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/summary.txt")
    assert summary in result.stdout
    # The terminal tells the story as it happens: a line as each step starts and one as
    # it ends (how long, which run), then the summary; no progress bar, no INFO chatter.
    for project in projects:
        for name in ("train", "evaluate", "register"):
            label = re.escape(f"{project} · {name}")
            assert step_line(label, "started", result.stdout), result.stdout
            assert step_line(label, r"ok\s+\d+\.\d s  run [0-9a-f]{8}", result.stdout)
    assert result.stdout.index(" started") < result.stdout.index(summary)
    terminal = result.stdout + result.stderr
    assert "Downloading artifacts" not in terminal, terminal[-3000:]
    # (mlflow run's own lines about the run it starts, "mlflow.projects", stay.)
    chatter = [line for line in terminal.splitlines() if " INFO " in line]
    assert [line for line in chatter if " mlflow.projects" not in line] == [], chatter
    iris_row = next(line for line in summary.splitlines() if line.startswith("iris "))
    train_id, evaluate_id, register_id = iris_row.split()[2:5]
    by_id = {child.info.run_id: child for child in children}
    steps = {
        name: by_id[run_id]
        for name, run_id in [
            ("train", train_id),
            ("evaluate", evaluate_id),
            ("register", register_id),
        ]
    }
    for name, run in steps.items():
        assert run.data.tags["mlflow.project.entryPoint"] == name
        assert run.info.run_name == f"iris · {name}"
    # The parent is named, and its description is the summary in Markdown.
    assert parent.info.run_name == "orchestrator"
    description = parent.data.tags["mlflow.note.content"]
    assert description.startswith("### Orchestrator: ")
    assert f"[{train_id}](#/experiments/{parent.info.experiment_id}/runs/{train_id}?" in description
    assert "- step cache: 0 hit, 9 miss, 0 forced, 0 off" in description

    model_uri = f"runs:/{train_id}/model"
    assert steps["evaluate"].data.params["model_uri"] == model_uri
    assert steps["evaluate"].data.tags["lifecycle.training_run_id"] == train_id
    assert steps["register"].data.params["model_uri"] == model_uri
    champion = client_for(store).get_model_version_by_alias("iris", "champion")
    assert champion.run_id == train_id

    assert iris_row.split()[1] == "ok"
    assert "passed accuracy=0.9487" in iris_row
    assert iris_row.split()[-4:] == ["1", "first", "1", "miss/miss/miss"]
    records = json.loads(mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/summary.json"))
    (record,) = [r for r in records if r["project"] == "iris"]
    assert record["champion_version"] == "1"
    assert record["metrics"]["test_accuracy"] == pytest.approx(37 / 39)

    # The gold forecaster's row and its plain-words verdict against the naive forecast.
    (gold,) = [r for r in records if r["project"] == "gold_prices"]
    assert gold["ok"]
    assert gold["gate_metric"] == "mase"
    assert gold["metrics"]["backtest_mase"] == pytest.approx(gold["gate_value"])
    verdict = next(line for line in summary.splitlines() if line.startswith("gold_prices: gate"))
    assert "the naive last-close forecast" in verdict
    assert ("PASSED" in verdict) == (gold["gate_value"] <= 1.0)

    (cities,) = [r for r in records if r["project"] == "cities"]
    assert cities["ok"]
    assert cities["gate_decision"] == "passed"
    assert cities["metrics"]["eval_constraint_satisfaction"] == 1.0
    assert (
        client_for(store).get_model_version_by_alias("cities", "champion").run_id
        == (cities["run_ids"]["train"])
    )

    # Nothing changed: the re-run reuses all nine steps and starts no step process.
    again = run_cli(
        ["mlflow", "run", ".", "--env-manager", "local"],
        store,
        REPO_ROOT,
        DATASETS_MIRROR=str(datasets_mirror),
    )
    assert again.returncode == 0, again.stderr[-4000:]
    assert "step cache: 9 hit, 0 miss" in again.stdout
    for project in projects:
        for name in ("train", "evaluate", "register"):
            label = re.escape(f"{project} · {name}")
            assert step_line(label, r"reused\s+(\d+\.\d s\s+)?run [0-9a-f]{8}", again.stdout), (
                again.stdout
            )
    assert again.stderr.count("=== Running command") == 1  # the orchestrator, no step
    # Its tree is never empty: one finished link per reused step, named and naming it.
    links = [run for run in all_runs(store) if contract.REUSED_RUN_ID in run.data.tags]
    assert len(all_runs(store)) == len(children) + len(links) + 2
    assert sorted(link.data.tags[contract.REUSED_RUN_ID] for link in links) == sorted(
        child.info.run_id for child in children
    )
    by_id = {child.info.run_id: child for child in children}
    for link in links:
        reused = by_id[link.data.tags[contract.REUSED_RUN_ID]]
        assert link.info.status == "FINISHED"
        assert link.info.run_name == f"{reused.info.run_name} · reused"
        assert link.data.tags["mlflow.parentRunId"] != parent.info.run_id
        assert link.data.tags[contract.REUSED_RUN_ID] in link.data.tags["mlflow.note.content"]
    assert (
        iris_row.split()[2:5]
        == next(line for line in again.stdout.splitlines() if line.startswith("iris ")).split()[2:5]
    )


BROKEN_MLPROJECT = """\
name: broken
conda_env: conda.yaml
entry_points:
  train:
    command: "python -c \\"import sys; sys.exit('broken: its training data is unavailable')\\""
  evaluate:
    parameters: {model_uri: {type: string}}
    command: "python -c pass"
  register:
    parameters: {model_uri: {type: string}}
    command: "python -c pass"
"""


def repository_copy_with_a_broken_project(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in ("MLproject", "conda.yaml"):
        shutil.copy(REPO_ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__", "mlruns", "mlflow.db")
    for name in ("orchestrator", "lifecycle", "iris", "datasets"):
        shutil.copytree(REPO_ROOT / name, copy / name, ignore=ignore)
    (copy / "broken").mkdir()
    (copy / "broken" / "MLproject").write_text(BROKEN_MLPROJECT)
    shutil.copy(REPO_ROOT / "iris" / "conda.yaml", copy / "broken" / "conda.yaml")
    return copy


def test_a_failing_project_fails_alone_and_the_orchestrator_exits_non_zero(
    store: Store, tmp_path: Path
) -> None:
    import mlflow

    repo = repository_copy_with_a_broken_project(tmp_path)
    result = run_cli(["mlflow", "run", str(repo), "--env-manager", "local"], store, tmp_path)
    assert result.returncode != 0
    assert "1 project(s) failed: broken" in result.stderr
    parent, children = parent_and_children(store)
    assert parent.info.status == "FAILED"
    assert parent.data.tags["orchestrator.failed_projects"] == "broken"
    summary = mlflow.artifacts.load_text(f"runs:/{parent.info.run_id}/summary.txt")
    lines = summary.splitlines()
    assert next(line for line in lines if line.startswith("broken ")).split()[1:4] == [
        "FAILED",
        "at",
        "train",
    ]
    assert next(line for line in lines if line.startswith("iris ")).split()[1] == "ok"
    assert "broken: train failed:" in summary
    # broken and iris ran side by side; iris still ran its whole chain
    iris_row = next(line for line in lines if line.startswith("iris "))
    by_id = {child.info.run_id: child for child in children}
    for run_id in iris_row.split()[2:5]:
        assert by_id[run_id].info.status == "FINISHED"
    broken_train = next(child for child in children if child.info.run_id not in iris_row.split())
    assert broken_train.info.status == "FAILED"
    assert broken_train.data.tags["mlflow.project.entryPoint"] == "train"
    assert client_for(store).get_model_version_by_alias("iris", "champion").version is not None
    assert_no_running_runs(store)


def test_orchestrator_rejects_unknown_projects_and_env_managers(store: Store) -> None:
    """Each refusal names the option and what it takes. Refused on its own command line,
    the orchestrator creates no run; under ``mlflow run``, whose run exists before any
    code of ours starts, that run is FAILED, named and given the reason (one case: the
    refusal itself is the same code either way)."""
    for option, value, fragment in [
        ("--projects", "iris,nope", "unknown project(s) nope; available: all,"),
        ("--env-manager", "docker", "must be one of local, uv, virtualenv, conda"),
        ("--params", "iris.depth=3", "iris has no parameter depth; it takes C, cv_folds,"),
    ]:
        result = run_cli([sys.executable, "-m", "orchestrator", option, value], store, REPO_ROOT)
        assert result.returncode == 2, result.stderr
        assert fragment in result.stderr
    assert all_runs(store) == []
    result = run_cli(
        ["mlflow", "run", ".", "--env-manager", "local", "-P", "max_parallel=-1"], store, REPO_ROOT
    )
    assert result.returncode != 0
    assert "must be an integer from 0 to 1024; 0 means the number of cores" in result.stderr
    (run,) = all_runs(store)
    assert run.info.status == "FAILED"
    # Refused while its options were parsed, the parent is still named, with its reason.
    assert run.data.tags["mlflow.runName"] == "orchestrator"
    assert "max_parallel=-1" in run.data.tags["lifecycle.failure_reason"]


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ("iris.max_depth=0", ["iris train", "--max-depth", "max_depth=0", "from 1 to 10000"]),
        (
            "iris.max_depth=400000000000000000000",
            ["iris train", "--max-depth", "400000000000000000000", "from 1 to 10000"],
        ),
        (
            "iris.max_depth=3,iris.max_depth=400000000000000000000",
            ["iris.max_depth is given twice"],
        ),
        ("iris.gate_threshold=1.5", ["iris register", "--gate-threshold", "gate_threshold=1.5"]),
        ("gold_prices.horizon=0", ["gold_prices train", "--horizon", "from 1 to 63"]),
        ("cities.diversity=1", ["cities train", "--diversity", "diversity=1.0"]),
        ("cities.min_explained_variance=2", ["cities register", "--min-explained-variance"]),
    ],
)
def test_orchestrator_checks_overrides_with_the_projects_own_rules_before_any_run(
    store: Store, override: str, fragments: list[str]
) -> None:
    """Ranges and choices, not only types: nothing is created or started."""
    result = run_cli(["python", "-m", "orchestrator", "--params", override], store, REPO_ROOT)
    assert result.returncode == 2, result.stderr[-2000:]
    message = result.stderr.strip().splitlines()[-1]
    for fragment in fragments:
        assert fragment in message, message
    assert "Traceback" not in result.stderr
    assert all_runs(store) == []

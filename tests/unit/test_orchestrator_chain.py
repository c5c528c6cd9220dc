"""Unit tests of the orchestrator's chain: step order, hand-offs, the step cache and
failure isolation, with ``mlflow.projects.run`` and the tracking client replaced by fakes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from lifecycle import contract
from orchestrator import chain, core, parent

MLPROJECT = """
name: demo
entry_points:
  train:
    parameters:
      max_depth: {type: int, default: 5}
      data_path: {type: string, default: data.csv}
    command: "python train.py"
  evaluate:
    parameters:
      model_uri: {type: string}
    command: "python evaluate.py"
  register:
    parameters:
      model_uri: {type: string}
      gate_threshold: {type: float, default: 0.9}
    command: "python register.py"
"""

REGISTER_TAGS = {
    "lifecycle.gate.decision": "passed",
    "lifecycle.gate.metric": "accuracy",
    "lifecycle.gate.value": "0.95",
    "lifecycle.registered_version": "4",
    "lifecycle.champion_version": "4",
    "lifecycle.gate.summary": "gate PASSED: accuracy 0.9500 >= 0.9000",
    "lifecycle.registered_model": "demo",
}


class FakeClient:
    """Runs keyed by id; ``search_runs`` answers the cache-key filter from the tags."""

    def __init__(self) -> None:
        self.runs: dict[str, SimpleNamespace] = {}

    def add(self, run_id: str, metrics=None, tags=None, status="FINISHED") -> None:
        self.runs[run_id] = SimpleNamespace(
            info=SimpleNamespace(run_id=run_id, status=status),
            data=SimpleNamespace(metrics=metrics or {}, tags=dict(tags or {})),
        )

    def get_run(self, run_id: str) -> SimpleNamespace:
        return self.runs[run_id]

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.runs[run_id].data.tags[key] = value

    def set_terminated(self, run_id: str, status: str) -> None:
        self.runs[run_id].info.status = status

    def create_run(self, experiment_id: str, run_name: str, tags: dict) -> SimpleNamespace:
        run_id = f"link{len(self.runs)}"
        self.add(run_id, tags={**tags, "mlflow.runName": run_name}, status="RUNNING")
        return self.runs[run_id]

    champion: str | Exception | None = "4"

    def get_model_version_by_alias(self, name: str, alias: str) -> SimpleNamespace:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

        assert (name, alias) == ("demo", "champion")
        if isinstance(self.champion, Exception):
            raise self.champion
        if self.champion is None:
            raise MlflowException(
                "Registered model alias champion not found.", error_code=INVALID_PARAMETER_VALUE
            )
        return SimpleNamespace(version=self.champion)

    def search_runs(self, experiment_ids, filter_string, order_by, max_results):
        key = filter_string.split("'")[1]
        return [
            run
            for run in self.runs.values()
            if run.data.tags.get(core.CACHE_KEY_TAG) == key and run.info.status == "FINISHED"
        ][:max_results]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    (directory / "MLproject").write_text(MLPROJECT)
    (directory / "train.py").write_text("print('train')\n")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    return directory


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    import mlflow

    fake = FakeClient()
    calls: list[tuple[str, str, dict]] = []
    fake.calls = calls
    counter = iter(range(1000))

    def run(uri, entry_point, parameters, **kwargs):
        assert kwargs["synchronous"] is True
        calls.append((Path(uri).name, entry_point, dict(parameters)))
        run_id = f"{entry_point[0]}{next(counter)}"
        if entry_point == "evaluate" and Path(uri).name == "broken":
            fake.add(
                run_id, tags={"lifecycle.failure_reason": "no held-out split"}, status="FINISHED"
            )
            raise RuntimeError(f"Run (ID '{run_id}') failed")
        if entry_point == "train":
            fake.add(
                run_id,
                {"test_accuracy": 0.95, "train_accuracy": 1.0},
                {"lifecycle.key_metrics": "test_accuracy"},
            )
        elif entry_point == "register":
            fake.add(run_id, tags=REGISTER_TAGS)
        else:
            fake.add(run_id)
        return SimpleNamespace(run_id=run_id)

    monkeypatch.setattr(mlflow.projects, "run", run)
    monkeypatch.setattr(chain.StepRunner, "adopt_parent", lambda self: None)
    return fake


def runner_for(client: FakeClient, root: Path, use_cache: bool = True) -> chain.StepRunner:
    return chain.StepRunner(
        client=client,
        experiment_id="1",
        parent_run_id="parent",
        env_manager="local",
        max_parallel=2,
        use_cache=use_cache,
        repository_root=root,
    )


def run_once(client, project, overrides=None, forced=False, use_cache=True) -> core.ChainResult:
    plan = chain.plan_project(project, project.parent, overrides or {}, forced)
    return chain.run_chain(plan, runner_for(client, project.parent, use_cache))


def test_steps_run_in_order_with_defaults_overrides_and_the_model_uri(client, project) -> None:
    result = run_once(client, project, {"max_depth": "3", "gate_threshold": "0.95"})
    train_id = result.run_ids["train"]
    assert client.calls == [
        ("demo", "train", {"max_depth": "3", "data_path": "data.csv"}),
        ("demo", "evaluate", {"model_uri": f"runs:/{train_id}/model"}),
        ("demo", "register", {"model_uri": f"runs:/{train_id}/model", "gate_threshold": "0.95"}),
    ]
    assert result.ok
    assert result.metrics == {"test_accuracy": 0.95}
    assert (result.gate_decision, result.gate_value) == ("passed", 0.95)
    assert (result.registered_version, result.champion_version) == ("4", "4")
    assert result.cache == {"train": "miss", "evaluate": "miss", "register": "miss"}
    for step, run_id in result.run_ids.items():
        tags = client.get_run(run_id).data.tags
        assert len(tags[core.CACHE_KEY_TAG]) == 64
        assert f'"entry_point": "{step}"' in tags[core.CACHE_INGREDIENTS_TAG]


def test_an_identical_rerun_reuses_every_step(client, project) -> None:
    first = run_once(client, project)
    second = run_once(client, project)
    assert second.run_ids == first.run_ids
    assert second.cache == {"train": "hit", "evaluate": "hit", "register": "hit"}
    assert len(client.calls) == 3
    # Each reused step is linked under the parent by a finished run that names it, and
    # carries no cache key, so the cache never finds the link itself.
    links = [run for run in client.runs.values() if contract.REUSED_RUN_ID in run.data.tags]
    assert sorted(run.data.tags["mlflow.runName"] for run in links) == [
        "demo · evaluate · reused",
        "demo · register · reused",
        "demo · train · reused",
    ]
    for link in links:
        assert link.info.status == "FINISHED"
        assert link.data.tags["mlflow.parentRunId"] == "parent"
        assert link.data.tags[contract.REUSED_RUN_ID] in first.run_ids.values()
        assert core.CACHE_KEY_TAG not in link.data.tags
    third = run_once(client, project)
    assert third.run_ids == first.run_ids
    assert second.gate_summary == first.gate_summary
    assert second.metrics == first.metrics


def test_a_reused_register_step_reports_the_champion_as_it_is_now(client, project) -> None:
    run_once(client, project)
    client.champion = "7"  # moved by another run since
    again = run_once(client, project)
    assert again.cache["register"] == "hit"
    assert (again.registered_version, again.champion_version) == ("4", "7")
    line = core.format_summary([again]).splitlines()[-2]
    assert line.startswith(f"demo: register reused run {again.run_ids['register']}, which decided")
    assert line.endswith("champion now: version 7")


def test_a_reused_register_step_reports_a_deleted_champion_alias_as_missing(
    client, project
) -> None:
    run_once(client, project)
    client.champion = None  # the alias was deleted since
    again = run_once(client, project)
    assert again.champion_version is None
    assert again.champion_note == "missing"
    table = core.format_summary([again])
    assert table.splitlines()[2].split()[-2] == "missing"
    assert "champion now: missing (the model has no champion alias)" in table
    assert "becomes champion" not in table


def test_an_unreadable_champion_is_unknown_not_missing(client, project) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import PERMISSION_DENIED

    run_once(client, project)
    client.champion = MlflowException("forbidden", error_code=PERMISSION_DENIED)
    again = run_once(client, project)
    assert again.champion_version is None
    assert again.champion_note.startswith("unknown: could not read the champion alias")
    assert "PERMISSION_DENIED" in core.format_summary([again])


def test_a_changed_parameter_reruns_its_step_and_everything_downstream(client, project) -> None:
    first = run_once(client, project)
    second = run_once(client, project, {"max_depth": "4"})
    assert second.cache == {"train": "miss", "evaluate": "miss", "register": "miss"}
    assert set(second.run_ids.values()).isdisjoint(first.run_ids.values())
    same_as_default = run_once(client, project, {"max_depth": "5"})
    assert same_as_default.cache == {"train": "hit", "evaluate": "hit", "register": "hit"}


def test_a_register_only_change_reuses_train_and_evaluate(client, project) -> None:
    first = run_once(client, project)
    second = run_once(client, project, {"gate_threshold": "0.8"})
    assert second.cache == {"train": "hit", "evaluate": "hit", "register": "miss"}
    assert second.run_ids["train"] == first.run_ids["train"]


def test_forced_and_disabled_runs_every_step_and_still_records_keys(client, project) -> None:
    first = run_once(client, project)
    forced = run_once(client, project, forced=True)
    assert forced.cache == {"train": "forced", "evaluate": "forced", "register": "forced"}
    off = run_once(client, project, use_cache=False)
    assert off.cache == {"train": "off", "evaluate": "off", "register": "off"}
    assert len(client.calls) == 9
    first_key = client.get_run(first.run_ids["train"]).data.tags[core.CACHE_KEY_TAG]
    assert client.get_run(forced.run_ids["train"]).data.tags[core.CACHE_KEY_TAG] == first_key


def test_a_failed_step_stops_only_its_chain_and_is_never_reused(client, project) -> None:
    broken = project.parent / "broken"
    broken.mkdir()
    (broken / "MLproject").write_text(MLPROJECT)
    result = run_once(client, broken)
    assert not result.ok
    assert result.failed_step == "evaluate"
    assert result.error == "no held-out split"
    failed_id = result.run_ids["evaluate"]
    # the step ended its run FINISHED, but its process failed: the run is FAILED
    assert client.get_run(failed_id).info.status == "FAILED"
    assert core.CACHE_KEY_TAG not in client.get_run(failed_id).data.tags
    again = run_once(client, broken)
    assert again.cache["train"] == "hit"
    assert [entry for _, entry, _ in client.calls].count("evaluate") == 2


def test_an_interrupted_runner_starts_no_further_step(client, project) -> None:
    runner = runner_for(client, project.parent)
    runner._stopping.set()
    result = chain.run_chain(chain.plan_project(project, project.parent, {}, False), runner)
    assert result.failed_step == "train"
    assert "interrupted" in result.error
    assert client.calls == []


def test_chains_run_side_by_side_within_the_step_limit(
    client, project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    import mlflow

    fake_run = mlflow.projects.run
    running, peak, lock = [0], [0], threading.Lock()

    def slow_run(uri, entry_point, parameters, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        try:
            return fake_run(uri, entry_point, parameters, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(mlflow.projects, "run", slow_run)
    plans = []
    for name in ("alpha", "beta", "gamma"):
        directory = project.parent / name
        directory.mkdir()
        (directory / "MLproject").write_text(MLPROJECT)
        plans.append(chain.plan_project(directory, project.parent, {}, False))
    results = parent.run_concurrently(plans, runner_for(client, project.parent), chain.run_chain)
    assert [result.project for result in results] == ["alpha", "beta", "gamma"]
    assert all(result.ok for result in results)
    assert peak[0] == 2  # max_parallel=2: never more, and the chains did overlap
    assert len(client.calls) == 9

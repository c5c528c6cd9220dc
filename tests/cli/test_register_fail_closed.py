"""CLI tests: registration fails closed (iris, against a temporary sqlite store).

A foreign model name, an unreadable champion, an empty or malformed registry answer, a
champion measured on other data, a tie and two register steps racing on one model: in
each case nothing worse than the champion takes the alias, and an error leaves the
registry as it was.
"""

from __future__ import annotations

import re
import sys
import threading

import pytest
from click.testing import CliRunner, Result

from iris_workflow import core, tracking
from iris_workflow.cli import cli, main
from lifecycle.register import registry
from tests.helpers import Store, all_runs, client_for


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def train(*args: str) -> str:
    result = invoke("train", *args)
    assert result.exit_code == 0, result.output
    return re.search(r"run_id=([0-9a-f]{32})", result.output).group(1)


def register(model_uri: str, *args: str) -> Result:
    return invoke("register", "--model-uri", model_uri, *args)


def champion(store: Store, name: str = "iris") -> str:
    return str(client_for(store).get_model_version_by_alias(name, "champion").version)


def versions(store: Store, name: str = "iris") -> list[str]:
    found = client_for(store).search_model_versions(f"name='{name}'")
    return sorted(str(v.version) for v in found)


def test_a_model_name_of_another_project_is_refused(store: Store) -> None:
    client = client_for(store)
    client.create_registered_model("gold_prices", tags={registry.PROJECT_TAG: "gold_prices"})
    result = register(f"runs:/{train()}/model", "--model-name", "gold_prices")
    assert result.exit_code == 1
    assert "holds gold_prices models" in result.output
    assert versions(store, "gold_prices") == []


def test_a_name_holding_an_unlabelled_version_is_refused(store: Store) -> None:
    import mlflow

    run_id = train()
    mlflow.register_model(f"runs:/{run_id}/model", "shared-name")  # no project recorded
    result = register(f"runs:/{run_id}/model", "--model-name", "shared-name")
    assert result.exit_code == 1
    assert "not registered by the iris project" in result.output
    assert versions(store, "shared-name") == ["1"]


def test_a_model_another_project_trained_is_refused(store: Store) -> None:
    run_id = train()
    client_for(store).set_tag(run_id, registry.PROJECT_TAG, "gold_prices")
    result = register(f"runs:/{run_id}/model")
    assert result.exit_code == 1
    assert "trained by the gold_prices project, not by iris" in result.output
    assert versions(store) == []


def test_every_version_and_the_name_record_the_project(store: Store) -> None:
    assert register(f"runs:/{train()}/model").exit_code == 0
    client = client_for(store)
    assert client.get_registered_model("iris").tags[registry.PROJECT_TAG] == "iris"
    assert client.get_model_version("iris", "1").tags[registry.PROJECT_TAG] == "iris"
    assert client.get_model_version("iris", "1").tags[registry.CONTEST_TAG] == "closed"


@pytest.mark.parametrize("code", ["PERMISSION_DENIED", "INTERNAL_ERROR", "TEMPORARILY_UNAVAILABLE"])
def test_a_champion_lookup_error_is_not_read_as_no_champion(
    store: Store, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException
    from mlflow.protos import databricks_pb2

    first = train()
    assert register(f"runs:/{first}/model").exit_code == 0
    better = train("--max-depth", "3")

    def refuse(self, name, alias):
        raise MlflowException("the server said no", error_code=getattr(databricks_pb2, code))

    monkeypatch.setattr(MlflowClient, "get_model_version_by_alias", refuse)
    result = register(f"runs:/{better}/model")
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "could not read the champion alias" in result.output
    assert code in result.output
    assert "nothing was registered or moved" in result.output
    assert versions(store) == ["1"]
    assert champion(store) == "1"


def test_a_champion_whose_value_is_unknown_is_never_replaced(store: Store) -> None:
    first = train()
    assert register(f"runs:/{first}/model").exit_code == 0
    client = client_for(store)
    client.delete_model_version_tag("iris", "1", "lifecycle.promotion.value")
    client.delete_model_version_tag("iris", "1", "lifecycle.gate.value")
    out = register(f"runs:/{train('--max-depth', '3')}/model").output
    assert "champion version 1's accuracy cannot be established" in out
    assert champion(store) == "1"
    assert client.get_model_version("iris", "2").tags["lifecycle.gate.promoted"] == "false"


def test_values_from_another_split_are_compared_on_shared_unseen_rows(store: Store) -> None:
    """A model held out by another test_size was measured on other rows: both are
    measured again on the flowers either held out, less every flower either trained on
    (judged from the row digests each training run stored)."""
    assert register(f"runs:/{train()}/model").exit_code == 0  # test_size 0.3: 39 held out
    other_split = train("--max-depth", "3", "--test-size", "0.25")  # 31 of those 39
    out = register(f"runs:/{other_split}/model", "--gate-threshold", "0.85").output
    assert "champion version 1 was measured on other data; on 31 shared unseen rows" in out
    assert "left out, of 39 proposed: 8 the challenger trained on" in out
    assert "not significantly better, champion kept" in out
    assert champion(store) == "1"
    tags = client_for(store).get_model_version("iris", "2").tags
    assert "test_size=0.25" in tags[registry.MEASURED_ON_TAG]
    assert tags["lifecycle.promotion.compared_on"].startswith("31 shared unseen rows")
    assert "**Compared on:** 31 shared unseen rows" in (
        client_for(store).get_model_version("iris", "2").description
    )
    assert (
        "test_size=0.3"
        in client_for(store).get_model_version("iris", "1").tags[registry.MEASURED_ON_TAG]
    )


def test_evidence_changed_after_registration_is_not_trusted(store: Store) -> None:
    """A champion's evidence rewritten to show every flower wrong would make a challenger
    that is one flower better look overwhelming. The digest recorded with the version
    refuses it; evidence that matches its digest but not the version's value is refused
    too. Either way the champion stays, with the reason."""
    import mlflow

    client = client_for(store)
    assert register(f"runs:/{train('--max-depth', '2')}/model").exit_code == 0  # 3 of 39 wrong
    uri = client.get_model_version("iris", "1").tags["lifecycle.promotion.evidence"]
    (stored,) = store.root.glob(f"artifacts/{uri.split('/')[1]}/artifacts/evidence/rows.csv")
    text = mlflow.artifacts.load_text(uri)
    lines = text.splitlines()
    wrong = [line.rsplit(",", 1)[0] + ",1.0" for line in lines[1:]]
    stored.write_text("\n".join([lines[0], *wrong]) + "\n")
    better = f"runs:/{train()}/model"  # 2 of 39 wrong: p=0.5 on the true pairing
    out = register(better).output
    assert "does not match the digest recorded when it was registered" in out
    assert "champion kept" in out
    assert champion(store) == "1"
    # The digest made to match the rewritten rows: the value check still refuses them.
    from lifecycle.register import evidence

    client.set_model_version_tag(
        "iris", "1", "lifecycle.promotion.evidence_sha256", evidence.digest(stored.read_text())
    )
    out = register(better).output
    assert "evidence gives accuracy 0.0000, but the version recorded 0.9231" in out
    assert champion(store) == "1"


def test_a_tie_keeps_the_champion(store: Store) -> None:
    first = train()
    assert register(f"runs:/{first}/model").exit_code == 0
    # Another model with the same held-out accuracy (a tie): the champion stays.
    same = train("--max-leaf-nodes", "12")
    assert client_for(store).get_run(same).data.metrics["test_accuracy"] == pytest.approx(
        client_for(store).get_run(first).data.metrics["test_accuracy"]
    )
    out = register(f"runs:/{same}/model").output
    assert "ties champion version 1" in out
    assert "becomes champion" not in out
    assert champion(store) == "1"


def test_racing_register_steps_end_with_the_better_model(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both steps find no model (so no champion) before either registers, and the worse model's
    alias write is held back until the better one has finished, as a slow server would."""
    from mlflow import MlflowClient

    better_run, worse_run = train(), train("--max-depth", "1")  # 0.9487 and 0.5897
    both_read = threading.Barrier(2, timeout=60)
    better_done = threading.Event()
    check_name = registry.ensure_own_kind
    set_alias = MlflowClient.set_registered_model_alias

    def check_name_then_wait_for_both(client, name, project):
        exists = check_name(client, name, project)
        both_read.wait()  # both have looked at the registry before either registers
        return exists

    def slow_for_the_worse(self, name, alias, version):
        if alias == "champion" and threading.current_thread().name == "worse":
            better_done.wait(timeout=60)
        return set_alias(self, name, alias, version)

    monkeypatch.setattr(registry, "ensure_own_kind", check_name_then_wait_for_both)
    monkeypatch.setattr(MlflowClient, "set_registered_model_alias", slow_for_the_worse)
    outcomes: dict[str, object] = {}

    def step(label: str, run_id: str) -> None:
        ref = tracking.resolve_model(f"runs:/{run_id}/model")
        try:
            gate = core.GateParams(threshold=0.5)
            outcomes[label] = tracking.register_if_good(ref, "iris", gate, 0.05)
        finally:
            if label == "better":
                better_done.set()

    threads = [
        threading.Thread(target=step, args=(label, run_id), name=label)
        for label, run_id in (("better", better_run), ("worse", worse_run))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert set(outcomes) == {"better", "worse"}
    better_version = outcomes["better"][2].version
    worse_registration = outcomes["worse"][2]
    assert champion(store) == better_version
    assert worse_registration.champion_after == better_version
    assert "becomes champion" not in worse_registration.clause
    assert f"made version {better_version} champion" in worse_registration.clause
    # Its record is the test against the version that beat it, not against "no champion".
    assert "against it: " in worse_registration.clause
    assert worse_registration.test is not None
    assert worse_registration.test.p_value == pytest.approx(1.0)
    tags = client_for(store).get_model_version("iris", worse_registration.version).tags
    assert float(tags["lifecycle.promotion.p_value"]) == pytest.approx(1.0)
    assert tags["lifecycle.promotion.decision"] == "kept"
    register_runs = [r for r in all_runs(store) if r.data.tags.get("lifecycle.step") == "register"]
    assert {r.data.tags["lifecycle.champion_version"] for r in register_runs} == {better_version}


def test_an_empty_answer_for_the_registered_model_is_an_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server (or a proxy) that answers 200 with an empty body for the registered model:
    MLflow's client makes a model with no name of it. That is not "no such model"."""
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import RegisteredModel

    run_id = train()
    monkeypatch.setattr(
        MlflowClient, "get_registered_model", lambda self, name: RegisteredModel("")
    )
    result = register(f"runs:/{run_id}/model")
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "could not read registered model 'iris' (the registry answered a model named '')" in (
        result.output
    )
    assert "nothing was registered or moved" in result.output
    assert versions(store) == []


def test_a_champion_answer_with_no_version_is_an_error(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

    assert register(f"runs:/{train()}/model").exit_code == 0
    better = train("--max-depth", "3")
    monkeypatch.setattr(
        MlflowClient,
        "get_model_version_by_alias",
        lambda self, name, alias: ModelVersion(name, "", 0),
    )
    result = register(f"runs:/{better}/model")
    monkeypatch.undo()
    assert result.exit_code == 1
    assert "could not read the champion alias of 'iris'" in result.output
    assert "a version with no version number" in result.output
    assert versions(store) == ["1"]
    assert champion(store) == "1"


def test_an_empty_project_label_is_an_error_not_an_unlabelled_model(store: Store) -> None:
    client_for(store).create_registered_model("iris", tags={registry.PROJECT_TAG: ""})
    result = register(f"runs:/{train()}/model")
    assert result.exit_code == 1
    assert "could not read the project label of 'iris' (the registry answered an empty label)" in (
        result.output
    )
    assert versions(store) == []


def test_a_failure_inside_the_register_run_records_its_reason(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = train()
    monkeypatch.setattr(
        sys,
        "argv",
        ["iris", "register", "--model-uri", f"runs:/{run_id}/model", "--model-name", "a/b"],
    )
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 1
    failed = [r for r in all_runs(store) if r.info.status == "FAILED"]
    assert len(failed) == 1
    assert "Invalid model name 'a/b'" in failed[0].data.tags["lifecycle.failure_reason"]

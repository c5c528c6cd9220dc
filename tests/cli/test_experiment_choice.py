"""CLI tier: which experiment a step logs to, and the kind tag it leaves, against a
temporary sqlite store (``lifecycle.runs``)."""

from __future__ import annotations

import mlflow
import pytest

from lifecycle import contract
from lifecycle.step.runs import ExperimentError, choose_experiment
from tests.helpers import Store, client_for


@pytest.fixture
def no_experiment(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    return store


def kind(store: Store, experiment_id: str) -> str | None:
    return client_for(store).get_experiment(experiment_id).tags.get(contract.EXPERIMENT_KIND_TAG)


def test_with_nothing_chosen_the_collections_experiment_is_made_for_model_training(
    no_experiment: Store,
) -> None:
    chosen = choose_experiment()
    experiment = client_for(no_experiment).get_experiment(chosen)
    assert experiment.name == contract.EXPERIMENT
    assert kind(no_experiment, chosen) == contract.EXPERIMENT_KIND
    with mlflow.start_run() as run:
        assert run.info.experiment_id == chosen
    assert choose_experiment() == chosen  # found, not made again


def test_the_environment_and_the_given_name_win(
    no_experiment: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(no_experiment)
    by_id = client.create_experiment("by-id")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", by_id)
    assert choose_experiment() == by_id
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "by-name")
    by_name = choose_experiment()
    assert client.get_experiment(by_name).name == "by-name"
    given = choose_experiment("given")
    assert client.get_experiment(given).name == "given"
    for experiment_id in (by_id, by_name, given):
        assert kind(no_experiment, experiment_id) == contract.EXPERIMENT_KIND


def test_a_run_mlflow_run_made_stays_where_it_is(
    no_experiment: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(no_experiment)
    run = client.create_run(no_experiment.experiment_id)
    monkeypatch.setenv("MLFLOW_RUN_ID", run.info.run_id)
    assert choose_experiment("ignored-under-mlflow-run") == no_experiment.experiment_id
    assert client.get_experiment_by_name("ignored-under-mlflow-run") is None
    assert kind(no_experiment, no_experiment.experiment_id) == contract.EXPERIMENT_KIND


def test_a_kind_someone_set_is_kept(no_experiment: Store) -> None:
    client = client_for(no_experiment)
    genai = client.create_experiment(
        "agents", tags={contract.EXPERIMENT_KIND_TAG: "genai_development"}
    )
    assert choose_experiment("agents") == genai
    assert kind(no_experiment, genai) == "genai_development"


def test_a_deleted_experiment_is_refused_with_how_to_restore_it(no_experiment: Store) -> None:
    client = client_for(no_experiment)
    client.delete_experiment(client.create_experiment(contract.EXPERIMENT))
    with pytest.raises(ExperimentError, match="is deleted: restore it"):
        choose_experiment()

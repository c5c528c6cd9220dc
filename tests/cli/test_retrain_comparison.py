"""A model retrained on newer data is compared with the champion on the rows neither
trained on (CLI tier, iris, a temporary sqlite store): a retrain on the table plus a
labelled batch from a shifted population is promoted on those rows; a retrain on the
unchanged table keeps the champion."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from iris_workflow.cli import cli
from tests.helpers import Store, client_for, shifted_iris


def invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def train(*args: str) -> str:
    return re.search(r"run_id=(\w+)", invoke("train", *args)).group(1)  # type: ignore[union-attr]


def register(run_id: str) -> str:
    return invoke("register", "--model-uri", f"runs:/{run_id}/model")


def test_a_retrain_on_shifted_labelled_rows_wins_on_shared_unseen_rows(
    store: Store, tmp_path: Path
) -> None:
    client = client_for(store)
    register(train())  # version 1, the original table
    # The unchanged table again: the same rows held out, the same model, a tie.
    out = register(train())
    assert "ties champion version 1" in out
    assert "decision=kept" in out

    _, grown = shifted_iris(300, seed=0)
    table = tmp_path / "iris_and_batch.csv"
    grown.to_csv(table, index=False)
    out = register(train("--data-path", str(table)))
    assert "version=3 decision=promoted" in out
    assert "champion version 1 was measured on other data; on " in out
    match = re.search(r"on (\d+) shared unseen rows \(ids digest ([0-9a-f]{12})\)", out)
    assert match, out
    rows = int(match.group(1))
    assert rows > 60  # the held-out flowers of both tables, the batch's among them
    version = client.get_model_version("iris", "3")
    assert version.tags["lifecycle.promotion.compared_on"].startswith(f"{rows} shared unseen")
    assert f"**Compared on:** {rows} shared unseen rows" in version.description
    assert float(version.tags["lifecycle.promotion.p_value"]) < 0.05
    assert str(client.get_model_version_by_alias("iris", "champion").version) == "3"


def test_a_champion_without_recorded_training_rows_is_kept_with_the_reason(
    store: Store, tmp_path: Path
) -> None:
    """Rows a model never saw cannot be established without its training rows' digests:
    no comparison, the champion stays, and the reason says what is missing."""
    client = client_for(store)
    first = train()
    register(first)
    # As a training run from before the digests were kept: the artifact is not there.
    (recorded,) = store.root.glob(f"artifacts/{first}/artifacts/split/trained_rows.txt")
    recorded.unlink()
    _, grown = shifted_iris(300, seed=0)
    table = tmp_path / "iris_and_batch.csv"
    grown.to_csv(table, index=False)
    out = register(train("--data-path", str(table)))
    assert "decision=kept" in out
    assert "does not record the rows it trained on" in out
    assert str(client.get_model_version_by_alias("iris", "champion").version) == "1"

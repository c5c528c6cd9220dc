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


def test_gold_retrained_to_a_later_cutoff_is_compared_on_the_days_after_both(
    store: Store, datasets_mirror: Path
) -> None:
    """A champion trained to 2023-12-31 and a retrain to 2024-12-31, compared by the DM
    test on the forecasts made after 2024-12-31 whose realised close is known; the
    verdict is whatever the test says. The same model again is compared on its own
    backtest days, as before, and keeps the champion."""
    import io

    import mlflow
    import pandas as pd

    from gold_workflow.cli import cli as gold

    def run(*args: str) -> str:
        result = CliRunner().invoke(gold, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def trained(cutoff: str) -> str:
        out = run("train", "--datasets-mirror", str(datasets_mirror), "--cutoff-date", cutoff)
        return re.search(r"run_id=(\w+)", out).group(1)  # type: ignore[union-attr]

    register_args = ("register", "--max-mase", "1.5", "--model-uri")
    run(*register_args, f"runs:/{trained('2023-12-31')}/model")
    later = f"runs:/{trained('2024-12-31')}/model"
    out = run(*register_args, later)
    assert "version=2 decision=" in out
    match = re.search(r"on (\d+) shared unseen rows \(ids digest [0-9a-f]{12}\)", out)
    assert match, out
    assert "Diebold-Mariano (HLN) on " in out
    register_id = re.search(r"run_id=(\w+)", out).group(1)  # type: ignore[union-attr]
    paired = pd.read_csv(
        io.StringIO(mlflow.artifacts.load_text(f"runs:/{register_id}/promotion/paired_rows.csv"))
    )
    assert len(paired) == int(match.group(1)) >= 100
    assert (pd.to_datetime(paired["Date"]) > pd.Timestamp("2024-12-31")).all()
    assert (pd.to_datetime(paired["target_date"]) > pd.to_datetime(paired["Date"])).all()
    version = client_for(store).get_model_version("gold_prices", "2")
    assert version.tags["lifecycle.promotion.compared_on"].startswith(match.group(0)[3:])
    # Unchanged data (the champion's cut-off again): the same backtest days, the same
    # forecasts, no discordant day; the champion stays.
    again = run(*register_args, f"runs:/{trained('2023-12-31')}/model")
    assert "on 0 paired rows" not in again
    assert "(0 better, 0 worse)" in again
    assert "decision=kept" in again


def test_cities_rebuilt_from_a_new_release_is_compared_on_the_same_profiles(
    store: Store, datasets_mirror: Path, tmp_path: Path
) -> None:
    """A recommender built from a new release of the city table (a fifth of the cities
    withdrawn) is compared with the champion on the same evaluation profiles, both lists
    judged against the new release; the same table again keeps the champion."""
    import pandas as pd

    from cities_workflow.cli import cli as cities

    def run(*args: str) -> str:
        result = CliRunner().invoke(cities, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    def trained(*args: str) -> str:
        out = run("train", "--datasets-mirror", str(datasets_mirror), *args)
        return re.search(r"run_id=(\w+)", out).group(1)  # type: ignore[union-attr]

    run("register", "--model-uri", f"runs:/{trained()}/model")
    out = run("register", "--model-uri", f"runs:/{trained()}/model")
    assert "ties champion version 1" in out

    table = pd.read_csv(datasets_mirror / "cities" / "Worldwide_Travel_Cities_Dataset.csv")
    release = tmp_path / "cities_release.csv"
    table.sample(frac=0.8, random_state=0).to_csv(release, index=False)
    out = run("register", "--model-uri", f"runs:/{trained('--data-path', str(release))}/model")
    assert "version=3 decision=" in out
    assert "champion version 1 was measured on other data; on " in out
    assert re.search(r"on \d+ shared unseen rows \(ids digest [0-9a-f]{12}\)", out), out
    assert "Wilcoxon" in out
    version = client_for(store).get_model_version("cities", "3")
    assert "shared unseen rows" in version.tags["lifecycle.promotion.compared_on"]

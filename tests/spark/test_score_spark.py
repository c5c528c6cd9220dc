"""The score step on Spark's local mode against the pandas engine: the same rows and
values for every project on inputs of several partitions, the same bad-row handling,
one model version even when the alias moves mid-job, and outputs never overwritten by
accident. One Spark session (local[2]) serves the module."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cities_workflow.scoring import CitiesScorer
from gold_workflow.scoring import GoldScorer
from iris_workflow.scoring import IrisScorer
from lifecycle.errors import DataError
from lifecycle.io import locations, manifests, tables
from lifecycle.score import job as outcome
from lifecycle.score import params as score_params
from lifecycle.score import step as scoring
from lifecycle.spark import staging
from tests.helpers import client_for
from tests.spark.conftest import Champions

SCORERS = {"iris": IrisScorer, "gold_prices": GoldScorer, "cities": CitiesScorer}
ACTIVITIES = [
    f.name for f in CitiesScorer.inputs if f.type == "double" and f.name != "preferred_temp"
]


def iris_input(rows: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    source = pd.read_csv(Path(__file__).resolve().parents[2] / "datasets" / "iris.csv")
    picked = source.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    picked[features] = (picked[features] + rng.normal(0, 0.2, (rows, 4))).clip(0.1).round(2)
    return picked


def cities_input(rows: int, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "month": rng.integers(1, 13, rows),
            "preferred_temp": rng.uniform(-5, 35, rows).round(1),
            "budget_level": rng.choice(["Budget", "Mid-range", "Luxury"], rows),
            "regions": rng.choice(["", "europe", "asia,europe"], rows),
        }
    )
    for activity in ACTIVITIES:
        frame[activity] = rng.integers(0, 6, rows).astype(float)
    frame["trip_days"] = rng.integers(1, 30, rows)
    frame["top_k"] = rng.integers(1, 6, rows)
    return frame


def write_input(project: str, folder: Path, datasets_mirror: Path) -> Path:
    """The project's input as three files: three partitions for Spark."""
    folder.mkdir(parents=True)
    if project == "gold_prices":
        lines = (datasets_mirror / "gold_prices" / "XAU_1d_data.csv").read_text().splitlines()
        header, body = lines[0], lines[1:]
        for number, part in enumerate(np.array_split(np.arange(len(body)), 3)):
            text = "\n".join([header, *(body[i] for i in part)]) + "\n"
            (folder / f"prices-{number}.csv").write_text(text)
        return folder
    frame = iris_input(3000) if project == "iris" else cities_input(60)
    for number, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{number}.parquet")
    return folder


def run_score(
    champions: Champions, project: str, source: Path, output: Path, **changes: str
) -> scoring.ScoreResult:
    values = {
        "input": str(source),
        "output": str(output),
        "model_uri": f"models:/{project}@champion",
        "spark_master": "local[2]",
    }
    return scoring.score(score_params.ScoreParams(**(values | changes)), SCORERS[project]())


def sorted_rows(table: pa.Table) -> pd.DataFrame:
    frame = table.drop(["scored_at"]).to_pandas()
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


@pytest.mark.parametrize("project", ["iris", "gold_prices", "cities"])
def test_spark_gives_the_pandas_engines_rows_and_values(
    project: str,
    champions: Champions,
    spark_session,
    tmp_path: Path,
    datasets_mirror: Path,
) -> None:
    source = write_input(project, tmp_path / "in", datasets_mirror)
    files = tables.list_input(str(source))
    schemas = tables.file_schemas(files)
    native = staging.native_parquet(files, schemas)
    partitions = staging.read(spark_session, files, tables.input_schema(files, schemas), native).rdd
    assert partitions.getNumPartitions() > 1

    by_pandas = run_score(champions, project, source, tmp_path / "pandas")
    by_spark = run_score(champions, project, source, tmp_path / "spark", engine="spark")

    pandas_table = manifests.read_output(by_pandas.output)
    spark_table = manifests.read_output(by_spark.output)
    assert spark_table.schema.equals(pandas_table.schema)
    assert len(list((tmp_path / "spark").glob("part-*.parquet"))) > 1
    pd.testing.assert_frame_equal(sorted_rows(spark_table), sorted_rows(pandas_table))
    version = champions.versions[project]
    assert set(spark_table.column("model_version").to_pylist()) == {version}
    assert set(spark_table.column("model_name").to_pylist()) == {project}
    assert by_spark.outcome.rows_out == spark_table.num_rows == by_pandas.outcome.rows_out
    assert by_spark.outcome.rows_in == by_pandas.outcome.rows_in
    if project == "iris":
        assert spark_table.num_rows == 3000
    if project == "gold_prices":
        assert spark_table.num_rows == by_spark.outcome.rows_in - 63
    if project == "cities":
        assert spark_table.num_rows > 60

    run = client_for(champions.store).get_run(by_spark.run_id)
    assert run.data.tags["lifecycle.step"] == "score"
    assert run.data.tags["lifecycle.model_uri"] == f"models:/{project}/{version}"
    assert run.data.tags["lifecycle.registered_version"] == str(version)
    assert run.data.tags["lifecycle.output"] == str(tmp_path / "spark")
    assert run.data.metrics["rows_out"] == spark_table.num_rows
    assert run.data.params["engine"] == "spark"
    (dataset,) = run.inputs.dataset_inputs
    assert dataset.dataset.digest == files.digest()
    assert str(source) in dataset.dataset.source
    assert {tag.value for tag in dataset.tags} >= {"scoring"}


def bad_iris_csv(folder: Path) -> Path:
    folder.mkdir()
    rows = iris_input(40, seed=11).astype(object)
    rows.loc[3, "sepal_length"] = "abc"
    rows.loc[17, "petal_width"] = 500.0
    rows.loc[25, "petal_length"] = None
    rows.iloc[:20].to_csv(folder / "a.csv", index=False)
    rows.iloc[20:].to_csv(folder / "b.csv", index=False)
    return folder


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_bad_rows_stop_the_job_before_anything_is_written(
    engine: str, champions: Champions, spark_session, tmp_path: Path
) -> None:
    source = bad_iris_csv(tmp_path / "in")
    with pytest.raises(outcome.RowsRejectedError) as refused:
        run_score(champions, "iris", source, tmp_path / "out", engine=engine)
    message = str(refused.value)
    assert "3 of 40 input row(s) cannot be scored" in message
    assert "a.csv row 3: sepal_length 'abc' is not a number" in message
    assert "a.csv row 17: petal_width is 500, outside the plausible range" in message
    assert "b.csv row 5: petal_length is missing" in message
    assert "nothing was written" in message
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "out-rejected").exists()
    (run,) = [
        r
        for r in client_for(champions.store).search_runs(
            [champions.store.experiment_id], order_by=["attributes.start_time DESC"]
        )[:1]
    ]
    assert run.info.status == "FAILED"
    assert run.data.metrics["rows_rejected"] == 3
    assert run.data.metrics["rows_in"] == 40


def test_quarantine_writes_the_same_rejected_rows_with_reasons_in_both_engines(
    champions: Champions, spark_session, tmp_path: Path
) -> None:
    source = bad_iris_csv(tmp_path / "in")
    results = {
        engine: run_score(
            champions,
            "iris",
            source,
            tmp_path / engine,
            engine=engine,
            on_bad_rows="quarantine",
        )
        for engine in ("pandas", "spark")
    }
    rejected = {
        engine: manifests.read_output(result.rejected_output or "")
        for engine, result in results.items()
    }
    assert rejected["spark"].schema.equals(rejected["pandas"].schema)
    pd.testing.assert_frame_equal(
        rejected["spark"]
        .to_pandas()
        .sort_values(["source_file", "source_row"])
        .reset_index(drop=True),
        rejected["pandas"]
        .to_pandas()
        .sort_values(["source_file", "source_row"])
        .reset_index(drop=True),
    )
    frame = rejected["pandas"].to_pandas().sort_values(["source_file", "source_row"])
    assert frame["source_row"].tolist() == [3, 17, 5]
    assert frame["sepal_length"].iloc[0] == "abc"  # as read, not as typed
    assert frame["reason"].iloc[2] == "petal_length is missing"
    for result in results.values():
        assert (result.outcome.rows_in, result.outcome.rows_rejected) == (40, 3)
        assert result.outcome.rows_scored == result.outcome.rows_out == 37
        assert manifests.read_output(result.output).num_rows == 37
        run = client_for(champions.store).get_run(result.run_id)
        assert run.data.metrics["rows_rejected"] == 3
        assert run.data.tags["lifecycle.rejected_output"] == result.rejected_output


# Cells of a type that is not a number where one is due, each as a Parquet column of its
# own type: what every row then gives as its reason (a null is missing, whatever the type).
NOT_NUMBERS = {
    "boolean": (
        pa.array([True, False, None, True]),
        ["petal_width True is not a number", "petal_width False is not a number"],
    ),
    "date": (
        pa.array([datetime.date(2024, 5, 1), datetime.date(2024, 5, 2), None, None]),
        ["petal_width of type date is not a number"],
    ),
    "list": (
        pa.array([[0.2], [1.3, 1.4], None, []]),
        ["petal_width of type list is not a number"],
    ),
}


@pytest.mark.parametrize("kind", sorted(NOT_NUMBERS))
def test_booleans_dates_and_lists_are_refused_and_quarantined_by_row_in_both_engines(
    kind: str, champions: Champions, spark_session, tmp_path: Path
) -> None:
    """A boolean, a date or a list where a number is due (one element or several) is
    refused by row, with its reason, in both engines, as the served model refuses it
    (tests/e2e/test_serving.py): never read as a number, never a failure of the whole
    job. Under ``fail`` nothing is written; under ``quarantine`` every row goes to the
    rejected output with its reason."""
    import pyarrow.parquet as pq

    values, reasons = NOT_NUMBERS[kind]
    folder = tmp_path / "in"
    folder.mkdir()
    rows = iris_input(4).drop(columns=["species"])
    table = pa.table(
        {
            **{name: rows[name].tolist() for name in ("sepal_length", "sepal_width")},
            "petal_length": rows["petal_length"].tolist(),
            "petal_width": values,
        }
    )
    pq.write_table(table, folder / f"{kind}.parquet")
    with pytest.raises(outcome.RowsRejectedError, match="4 of 4 input row"):
        run_score(champions, "iris", folder, tmp_path / "refused", engine="pandas")
    assert not (tmp_path / "refused").exists()
    results = {
        engine: run_score(
            champions, "iris", folder, tmp_path / engine, engine=engine, on_bad_rows="quarantine"
        )
        for engine in ("pandas", "spark")
    }
    for result in results.values():
        assert (result.outcome.rows_in, result.outcome.rows_rejected) == (4, 4)
        assert result.outcome.rows_scored == 0
        rejected = manifests.read_output(result.rejected_output or "").to_pandas()
        found = dict(zip(rejected["source_row"], rejected["reason"], strict=True))
        assert found[2] == "petal_width is missing"
        assert {found[row] for row in (0, 1, 3) if values[row].is_valid} <= set(reasons)
        assert found[0] == reasons[0]


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_the_alias_moving_mid_job_changes_nothing_the_job_scores_or_records(
    engine: str,
    champions: Champions,
    spark_session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_for(champions.store)
    first = str(champions.versions["iris"])
    champion = client.get_model_version("iris", first)
    other = client.create_model_version("iris", champion.source, champion.run_id)
    source = write_input("iris", tmp_path / "in", Path())
    from lifecycle.score import local_engine, spark_engine

    engine_function = "score_local" if engine == "pandas" else "score_spark"
    module = local_engine if engine == "pandas" else spark_engine
    real = getattr(module, engine_function)

    def move_alias_then_score(*args, **kwargs):
        client.set_registered_model_alias("iris", "champion", other.version)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, engine_function, move_alias_then_score)
    try:
        result = run_score(champions, "iris", source, tmp_path / "out", engine=engine)
        assert client.get_model_version_by_alias("iris", "champion").version == other.version
    finally:
        client.set_registered_model_alias("iris", "champion", first)
    output = manifests.read_output(result.output)
    assert set(output.column("model_version").to_pylist()) == {int(first)}
    assert result.model.uri == f"models:/iris/{first}"
    run = client.get_run(result.run_id)
    assert run.data.tags["lifecycle.registered_version"] == first
    assert run.data.tags["lifecycle.model_uri"] == f"models:/iris/{first}"


@pytest.mark.parametrize("engine", ["pandas", "spark"])
def test_overwrite_replaces_only_an_earlier_score_output_and_never_foreign_files(
    engine: str, champions: Champions, spark_session, tmp_path: Path
) -> None:
    source = write_input("iris", tmp_path / "in", Path())
    output = tmp_path / "out"
    first = run_score(champions, "iris", source, output, engine=engine)
    with pytest.raises(DataError, match=f"already exists \\(written by run {first.run_id}\\)"):
        run_score(champions, "iris", source, output, engine=engine)
    second = run_score(champions, "iris", source, output, engine=engine, mode="overwrite")
    manifest = manifests.verify(locations.locate(second.output))
    assert manifest.run_id == second.run_id
    assert manifests.read_output(second.output).num_rows == 3000
    assert not any(first.run_id in path.read_text() for path in output.glob("_*"))

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.parquet").write_bytes(b"earlier results")
    for mode in ("error", "overwrite"):
        with pytest.raises(DataError, match=r"did not write \(keep.parquet\); nothing was"):
            run_score(champions, "iris", source, foreign, engine=engine, mode=mode)
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.parquet"]
    assert (foreign / "keep.parquet").read_bytes() == b"earlier results"


def test_a_version_pinned_uri_and_a_missing_alias(champions: Champions, tmp_path: Path) -> None:
    from lifecycle.models import ModelUriError

    source = write_input("iris", tmp_path / "in", Path())
    version = champions.versions["iris"]
    result = run_score(
        champions, "iris", source, tmp_path / "a", model_uri=f"models:/iris/{version}"
    )
    assert result.model.version == version
    with pytest.raises(ModelUriError, match="has no alias 'staging'"):
        run_score(champions, "iris", source, tmp_path / "b", model_uri="models:/iris@staging")


def test_iris_tuning_on_spark_scores_the_grid_exactly_as_locally(spark_session) -> None:
    from dataclasses import replace

    from iris_workflow import core, tuning

    frame = pd.read_csv(Path(__file__).resolve().parents[2] / "datasets" / "iris.csv")
    train, test = core.split_frame(frame, 0.3, 42)
    grid = tuning.TuneParams(max_leaf_nodes_grid="2,3,5,8", max_depth_grid="1,2,4", cv_folds=4)
    local = tuning.score_grid(grid, train, test)
    on_spark = tuning.score_grid(
        replace(grid, engine="spark", spark_master="local[2]"), train, test
    )
    assert on_spark == local
    assert [(r.max_leaf_nodes, r.max_depth) for r in on_spark] == grid.configurations()

"""Unit tests of batch scoring on tiny in-memory tables: the score parameters, typing and
checking rows, the output's columns, reading and writing files, chunked series scoring,
and Spark's Java check. No MLflow run, no Spark session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cities_workflow.scoring import CitiesScorer
from gold_workflow import core as gold_core
from gold_workflow.scoring import GoldScorer
from iris_workflow.scoring import IrisScorer
from lifecycle import models
from lifecycle.errors import DataError, ParameterError
from lifecycle.io import locations, tables
from lifecycle.score import assembly, rows
from lifecycle.score import params as score_params
from lifecycle.spark import session as spark

IRIS = IrisScorer()


def iris_rows(**overrides: list) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "sepal_length": [5.1, 6.4, 7.7],
            "sepal_width": [3.5, 3.2, 3.0],
            "petal_length": [1.4, 4.5, 6.1],
            "petal_width": [0.2, 1.5, 2.3],
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def params(**changes: str) -> score_params.ScoreParams:
    values = {"input": "in/", "output": "out/", "model_uri": "models:/iris@champion"}
    return score_params.ScoreParams(**(values | changes))


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"engine": "dask"}, "one of local, spark, pandas"),
        ({"on_bad_rows": "skip"}, "one of fail, quarantine"),
        ({"mode": "append"}, "one of error, overwrite"),
        ({"spark_master": "local[0]"}, "Spark master URL"),
        ({"spark_master": "localhost"}, "Spark master URL"),
        ({"model_uri": "/tmp/model"}, "models:/<name>@<alias>"),
        ({"output": "in"}, "is the input"),
        ({"output": "./in/sub"}, "lies inside the input"),
        ({"output": "."}, "contains the input"),
        ({"output": "in/../in//"}, "is the input"),
        ({"input": " "}, "a Parquet or CSV file or directory"),
    ],
)
def test_score_parameters_are_checked_before_any_work(change: dict, fragment: str) -> None:
    with pytest.raises(ParameterError, match=fragment) as refused:
        params(**change)
    assert refused.value.name == next(iter(change)) or refused.value.name == "output"


@pytest.mark.parametrize("master", ["local", "local[*]", "local[2]", "spark://h:7077", "yarn"])
def test_cluster_master_urls_are_accepted(master: str) -> None:
    assert params(spark_master=master).spark_master == master


def test_rows_with_wrong_types_missing_or_implausible_values_are_named() -> None:
    frame = iris_rows(
        sepal_length=["5.1", "abc", None],
        petal_width=[0.2, 500.0, 1.0],
    ).astype({"sepal_length": object})
    frame.loc[0, "sepal_width"] = np.inf
    problems = rows.check_rows(frame, IRIS, model=None)
    assert problems.tolist() == [
        "sepal_width must be a finite number, got inf",
        "sepal_length 'abc' is not a number",
        "sepal_length is missing",
    ]
    typed = rows.typed_rows(iris_rows(sepal_length=["5.1", "6.4", "7.7"]), IRIS)
    assert typed["sepal_length"].dtype == "float64"


def test_a_list_cell_is_a_bad_row_whatever_it_holds() -> None:
    """A list where a number is due is refused by row: a one-element list is not the
    number it holds, and a longer one does not fail the whole batch."""
    import numpy as np

    from iris_workflow.scoring import IrisScorer
    from lifecycle.score.rows import check_rows

    frame = pd.DataFrame(
        {
            "sepal_length": [5.1, 5.1, 5.1, 5.1],
            "sepal_width": [3.5, 3.5, 3.5, 3.5],
            "petal_length": [1.4, 1.4, 1.4, 1.4],
            "petal_width": [np.array([0.2]), np.array([0.2, 0.3]), [0.2], 0.2],
        }
    )
    problems = check_rows(frame, IrisScorer(), None).tolist()
    assert problems[:3] == ["petal_width of type list is not a number"] * 3
    assert problems[3] is None


def test_python_numbers_convert_at_once_and_give_the_cell_by_cell_answers() -> None:
    """A column of Python numbers and nulls (a JSON request) converts in one step, as a
    float column does; an integer beyond float64 is refused as not finite, never an
    unexpected failure of the batch."""
    from iris_workflow.scoring import IrisScorer

    width = rows.Field("petal_width", "double")
    as_objects = pd.Series([0.2, 1, None, float("nan"), 2.5], dtype=object)
    converted, reasons = rows._convert(as_objects, width)
    floats, float_reasons = rows._convert(as_objects.astype("float64"), width)
    pd.testing.assert_series_equal(converted, floats)
    assert reasons.tolist() == float_reasons.tolist()
    assert reasons.tolist()[:2] == [None, None]
    huge = iris_rows(petal_width=[10**400, -(10**400), True])
    assert rows.check_rows(huge, IrisScorer(), None).tolist() == [
        "petal_width must be a finite number, got inf",
        "petal_width must be a finite number, got -inf",
        "petal_width True is not a number",
    ]


def test_booleans_are_not_numbers_and_whole_number_fields_refuse_fractions() -> None:
    frame = pd.DataFrame({"month": [12, 12.5, True], "trip_days": [3, 3, 3]}, dtype=object)
    month = rows.Field("month", "long")
    converted, reasons = rows._convert(frame["month"], month)
    assert reasons.tolist() == [
        None,
        "month 12.5 is not a whole number",
        "month True is not a number",
    ]
    assert converted.iloc[0] == 12


def test_a_missing_column_or_a_column_scoring_adds_stops_the_whole_job() -> None:
    with pytest.raises(DataError, match=r"no column.*petal_width"):
        rows.check_columns(["sepal_length", "sepal_width", "petal_length"], IRIS)
    with pytest.raises(DataError, match=r"model_version.*scoring adds"):
        rows.check_columns([*iris_rows().columns, "model_version"], IRIS)
    # Optional fields may be absent: cities' regions and top_k.
    required = [f.name for f in CitiesScorer.inputs if f.required]
    rows.check_columns(required, CitiesScorer())


def test_the_output_keeps_input_columns_then_predictions_then_metadata() -> None:
    records = iris_rows(species=["setosa", "versicolor", "virginica"])
    records[tables.SOURCE_FILE] = "a.parquet"
    records[tables.SOURCE_ROW] = [0, 1, 2]
    predictions = pd.DataFrame({"_position": [2, 0], "predicted_species": ["c", "a"]})
    model = models.ResolvedModel("models:/iris@champion", "models:/iris/4", "r" * 32, "iris", 4)
    stamp = pd.Timestamp("2026-01-02T03:04:05.123456Z")
    out = assembly.assemble(records, predictions, IRIS, assembly.metadata_of(model, stamp))
    assert list(out.columns) == [
        *iris_rows().columns,
        "species",
        "predicted_species",
        *rows.METADATA,
    ]
    assert out["species"].tolist() == ["virginica", "setosa"]
    assert out["model_version"].tolist() == [4, 4]
    schema = assembly.output_schema(pa.Schema.from_pandas(records, preserve_index=False), IRIS)
    table = assembly.to_arrow(out, schema)
    assert table.schema.field("scored_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.metadata is None


def test_chunks_cover_every_row_once_with_history_before_each() -> None:
    bounds = assembly.chunk_bounds(rows=2500, chunk_rows=1024, history_rows=63)
    assert bounds == [(0, 0, 1024), (961, 1024, 2048), (1985, 2048, 2500)]
    assert assembly.chunk_bounds(0, 1024, 63) == []


def random_walk(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 1000 * np.exp(np.cumsum(rng.normal(0, 0.01, rows)))
    opens = close * np.exp(rng.normal(0, 0.003, rows))
    high = np.maximum(opens, close) * (1 + rng.uniform(0, 0.01, rows))
    low = np.minimum(opens, close) * (1 - rng.uniform(0, 0.01, rows))
    dates = pd.bdate_range("2015-01-01", periods=rows)
    return pd.DataFrame(
        {
            "Date": dates.strftime("%Y.%m.%d 00:00"),
            "Open": opens,
            "High": high,
            "Low": low,
            "Close": close,
        }
    )


def test_gold_forecasts_equal_the_walk_forward_backtest_for_the_same_model_and_dates() -> None:
    """The backtest's single refit (refit_every covers every origin) is one fitted model;
    scoring the history with that model gives the backtest's forecasts on its dates,
    though the score step reads the history in chunks of 1024 rows."""
    from sklearn.base import clone

    history = random_walk(2600)
    prices = gold_core.validate_prices(history)
    features = gold_core.build_features(prices)
    params = gold_core.TrainParams(model="ridge", horizon=5, refit_every=5000)
    target = gold_core.future_log_return(features["Close"], params.horizon)
    split = gold_core.time_split(features, target, params.backtest_fraction)
    backtest = gold_core.walk_forward(params, features, target, split)
    assert backtest.refits == 1
    first_origin = int(split.test_rows[0])
    train_rows = gold_core.training_rows_before(split.usable, first_origin, params.horizon)
    model = clone(gold_core.build_regressor(params)).fit(
        features.iloc[train_rows][list(gold_core.FEATURES)], target.iloc[train_rows]
    )

    class Loaded:
        pass

    loaded = Loaded()
    loaded.model, loaded.horizon = model, params.horizon
    scorer = GoldScorer()
    typed = rows.typed_rows(history, scorer).sort_values(rows.ORDER)
    predictions = assembly.predict_rows(scorer, loaded, typed.reset_index(drop=True))
    assert len(predictions) == len(history) - (gold_core.MIN_HISTORY - 1)
    scored_dates = pd.to_datetime(
        typed["Date"].iloc[predictions["_position"]], format="%Y.%m.%d %H:%M"
    )
    by_date = pd.Series(predictions["forecast_close"].to_numpy(), index=scored_dates.to_numpy())
    expected = backtest.forecasts.set_index("Date")["forecast_close"]
    np.testing.assert_allclose(
        by_date.loc[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-9
    )
    assert (predictions["horizon"] == params.horizon).all()


def test_gold_rows_with_bad_dates_prices_or_bars_are_named() -> None:
    history = random_walk(5)
    history.loc[1, "Date"] = "yesterday"
    history.loc[2, "High"] = history.loc[2, "Low"] / 2
    history.loc[3, "Close"] = 5e7
    problems = rows.check_rows(history, GoldScorer(), model=None).tolist()
    assert problems[0] is None
    assert problems[1] == "Date 'yesterday' is not a date like 2025-06-05"
    assert problems[2].startswith("inconsistent bar")
    assert "Close is 5e+07, outside the plausible range" in problems[3]


def test_repeated_dates_are_a_problem_of_the_series_not_of_a_row() -> None:
    history = random_walk(4)
    history.loc[3, "Date"] = "2015-01-01"  # the first bar's date, in the other format
    typed = rows.typed_rows(history, GoldScorer())
    repeats = rows.repeated_values(typed, "Date")
    assert repeats == ["2015-01-01", "2015.01.01 00:00"]
    assert "Date repeats" in rows.duplicate_order_problem(repeats, "Date")


def write_parts(directory: Path, frame: pd.DataFrame, parts: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for number, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[chunk].to_parquet(directory / f"part-{number}.parquet")


def test_an_input_directory_is_read_in_file_order_with_each_rows_origin(tmp_path: Path) -> None:
    write_parts(tmp_path / "in", iris_rows(), 2)
    (tmp_path / "in" / "_SUCCESS").write_text("")
    (tmp_path / "in" / ".hidden.parquet").write_text("not parquet")
    files = tables.list_input(str(tmp_path / "in"))
    assert [Path(f).name for f in files.files] == ["part-0.parquet", "part-1.parquet"]
    table = tables.read_all(files)
    assert table.column(tables.SOURCE_FILE).to_pylist() == ["part-0.parquet"] * 2 + [
        "part-1.parquet"
    ]
    assert table.column(tables.SOURCE_ROW).to_pylist() == [0, 1, 0]
    assert len(files.digest()) == 16


def test_csv_cells_are_read_as_text_with_the_header_delimiter(tmp_path: Path) -> None:
    (tmp_path / "gold.csv").write_text("Date;Open;High;Low;Close\n2025.06.05 00:00;1;2;0.5;1.5\n")
    files = tables.list_input(str(tmp_path / "gold.csv"))
    table = tables.read_all(files)
    assert table.column("Open").type == pa.string()
    assert table.column("Close").to_pylist() == ["1.5"]
    assert table.column(tables.SOURCE_FILE).to_pylist() == ["gold.csv"]


@pytest.mark.parametrize(
    ("files", "fragment"),
    [
        ({}, "holds no Parquet or CSV file"),
        ({"a.parquet": b"x", "b.csv": b"a\n1\n"}, "mixes Parquet and CSV"),
        ({"notes.txt": b"x"}, "neither Parquet"),
    ],
)
def test_inputs_that_cannot_be_scored_are_refused(
    tmp_path: Path, files: dict[str, bytes], fragment: str
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    with pytest.raises(DataError, match=fragment):
        tables.list_input(str(folder))
    with pytest.raises(DataError, match="does not exist"):
        tables.list_input(str(tmp_path / "missing"))


def test_s3_uris_name_the_bucket_and_key() -> None:
    location = locations.locate("s3://scores/iris/2026/")
    assert (location.uri, location.path, location.is_s3) == (
        "s3://scores/iris/2026",
        "scores/iris/2026",
        True,
    )
    with pytest.raises(DataError, match="names no bucket"):
        locations.locate("s3:///key")
    with pytest.raises(DataError, match="only local paths and s3://"):
        locations.locate("gs://bucket/key")


def test_spark_without_java_fails_at_once_saying_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-java"))
    with pytest.raises(spark.SparkUnavailableError, match=r"Java 17 or newer.*apt-get install"):
        spark.require_java()
    old = tmp_path / "old-java" / "bin"
    old.mkdir(parents=True)
    (old / "java").write_text("#!/bin/sh\necho 'openjdk version \"11.0.2\"' >&2\n")
    (old / "java").chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(old.parent))
    with pytest.raises(spark.SparkUnavailableError, match="the java found is 11"):
        spark.require_java()


def test_the_parquet_written_by_pandas_3_reads_back_with_plain_strings(tmp_path: Path) -> None:
    pq.write_table(pa.table({"s": pa.array(["a"], pa.large_string())}), tmp_path / "x.parquet")
    schema = tables.input_schema(tables.list_input(str(tmp_path / "x.parquet")))
    assert schema.field("s").type == pa.string()


def test_a_gold_series_with_a_gap_the_served_model_refuses_is_refused_whole() -> None:
    history = random_walk(6)
    typed = rows.typed_rows(history, GoldScorer())
    keys = typed[rows.ORDER].sort_values().to_numpy()
    assert rows.series_problem(GoldScorer(), keys) is None
    later = keys.copy()
    later[3:] += int(30 * 365.25 * 86_400e9)  # a 30-year jump between two bars
    problem = rows.series_problem(GoldScorer(), later)
    assert problem is not None
    assert "Date jumps 1095" in problem
    assert "gaps of at most 10 days" in problem


def test_gold_dates_far_ahead_or_before_1950_are_bad_rows_as_when_served() -> None:
    history = random_walk(3)
    history.loc[1, "Date"] = "2099-01-02"
    history.loc[2, "Date"] = "1900-01-02"
    problems = rows.check_rows(history, GoldScorer(), model=None)
    assert problems[0] is None
    assert "Date 2099-01-02 is implausible" in problems[1]
    assert "Date 1900-01-02 is implausible" in problems[2]


def test_zoned_timestamps_are_read_by_their_own_wall_clock_in_both_engines(
    tmp_path: Path,
) -> None:
    """A tz-aware Date column (Parquet) and text with an offset both mean the calendar
    day the bar's own clock shows: 5 June at 00:00+02:00 is 5 June, not 4 June in UTC."""
    zoned = pd.Series(pd.to_datetime(["2025-06-05 00:00", "2025-06-06 00:00"]))
    frame = pd.DataFrame({"Date": zoned.dt.tz_localize("Europe/Berlin")})
    frame.to_parquet(tmp_path / "bars.parquet")
    files = tables.list_input(str(tmp_path / "bars.parquet"))
    schema = tables.input_schema(files)
    assert schema.field("Date").type == pa.string()
    read = tables.read_all(files).column("Date").to_pylist()
    assert read == ["2025-06-05T00:00:00.000000", "2025-06-06T00:00:00.000000"]
    from gold_workflow.table import parse_date_values

    parsed = parse_date_values(pd.Series([*read, "2025-06-07T00:00:00+02:00", "2025-06-08Z"]))
    assert [d.day for d in parsed] == [5, 6, 7, 8]

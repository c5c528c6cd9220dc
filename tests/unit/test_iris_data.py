"""Unit tests of reading the iris CSV: path resolution and every bad-file case."""

from __future__ import annotations

from pathlib import Path

import pytest

from iris_workflow import core
from iris_workflow.data import read_iris_csv, resolve_data_path, sha256_of

HEADER = "sepal_length,sepal_width,petal_length,petal_width,species\n"
ROWS = "".join(
    f"{1 + i * 0.1:.1f},2.0,3.0,4.0,{species}\n"
    for species in ("setosa", "versicolor", "virginica")
    for i in range(3)
)


def write(tmp_path: Path, text: str, name: str = "iris.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_relative_paths_resolve_against_the_given_root(tmp_path: Path) -> None:
    (tmp_path / "datasets").mkdir()
    target = write(tmp_path / "datasets", HEADER + ROWS)
    assert resolve_data_path("datasets/iris.csv", root=tmp_path) == target
    assert resolve_data_path(str(target), root=Path("/nonexistent")) == target


def test_missing_path_names_the_value_and_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(core.DataError) as caught:
        resolve_data_path("nope/iris.csv", root=tmp_path)
    assert "'nope/iris.csv' does not exist" in str(caught.value)
    assert str(tmp_path / "nope" / "iris.csv") in str(caught.value)


def test_directory_and_blank_paths_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(core.DataError, match="is not a file"):
        resolve_data_path(".", root=tmp_path)
    with pytest.raises(core.DataError, match="data_path is empty"):
        resolve_data_path("  ", root=tmp_path)


def test_reads_a_good_file(tmp_path: Path) -> None:
    frame = read_iris_csv(write(tmp_path, HEADER + ROWS))
    assert len(frame) == 9
    assert frame["sepal_length"].iloc[1] == pytest.approx(1.1)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "is empty (0 bytes)"),
        ("\n\n", "has no header or rows"),
        (HEADER, "has no rows"),
        ("a,b,c\n1,2,3\n", "missing column(s) sepal_length"),
        (HEADER + ROWS.replace("2.0", "two", 1), "column 'sepal_width' must hold finite numbers"),
        (HEADER + ROWS + "1.0,,3.0,4.0,setosa\n", "column 'sepal_width' must hold finite numbers"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(core.DataError) as caught:
        read_iris_csv(path)
    assert fragment in str(caught.value)
    assert str(path) in str(caught.value)


def test_sha256_of_known_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "abc")
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

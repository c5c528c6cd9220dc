"""Unit tests of reading the city table from disk: the real pinned file through the
mirror (CRLF, quoted JSON), and bad files."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cities_workflow import core
from cities_workflow.data import locate, read_cities_csv
from tests.unit.test_cities_core import raw_city


def write_rows(tmp_path: Path, rows: list[dict], line_ending: str = "\r\n") -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator=line_ending)
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "cities.csv"
    path.write_bytes(buffer.getvalue().encode())
    return path


def test_the_pinned_file_from_the_mirror(datasets_mirror: Path) -> None:
    source = locate("", str(datasets_mirror))
    assert source.pinned
    cities = read_cities_csv(source.path)
    assert len(cities) == 560
    assert cities["region"].value_counts().to_dict() == {
        "europe": 177,
        "north_america": 104,
        "asia": 99,
        "africa": 63,
        "south_america": 55,
        "oceania": 51,
        "middle_east": 11,
    }
    assert cities["budget_level"].value_counts().to_dict() == {
        "Mid-range": 339,
        "Budget": 145,
        "Luxury": 76,
    }
    label_counts = {
        label: int(cities[column].sum())
        for label, column in zip(core.DURATIONS, core.DURATION_COLUMNS, strict=True)
    }
    assert label_counts == {
        "Day trip": 20,
        "Weekend": 421,
        "Short trip": 535,
        "One week": 403,
        "Long trip": 53,
    }
    assert cities[list(core.TEMPERATURE_COLUMNS)].min().min() == pytest.approx(-22.1)
    assert cities[list(core.TEMPERATURE_COLUMNS)].max().max() == pytest.approx(40.2)
    assert "Malmö" in set(cities["city"])


@pytest.mark.parametrize("line_ending", ["\r\n", "\n"])
def test_either_line_ending_reads_the_same(tmp_path: Path, line_ending: str) -> None:
    path = write_rows(tmp_path, [raw_city("A"), raw_city("B")], line_ending)
    assert read_cities_csv(path)["city"].tolist() == ["A", "B"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty (0 bytes)"),
        (b"\r\n", "has no header or rows"),
        (b'id,city\r\n"1,Rome\r\n', "not a readable CSV"),
    ],
    ids=["empty", "blank", "unclosed-quote"],
)
def test_unreadable_files_name_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "cities.csv"
    path.write_bytes(content)
    with pytest.raises(core.DataError) as caught:
        read_cities_csv(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_malformed_json_cell_names_file_column_and_row(tmp_path: Path) -> None:
    rows = [raw_city("A"), raw_city("B", avg_temp_monthly='{"1": {"avg": 3}}')]
    with pytest.raises(core.DataError) as caught:
        read_cities_csv(write_rows(tmp_path, rows))
    message = str(caught.value)
    assert "'avg_temp_monthly' is malformed in 1 row(s): row 2" in message
    assert "cities.csv" in message

"""Unit tests of reading the gold price file: every bad-file case, the real pinned file
through the mirror, and locating the file (a path, the mirror, or neither)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from gold_workflow import core
from gold_workflow import data as gold_data
from gold_workflow.data import locate, read_gold_csv
from lifecycle.io import datasets

HEADER = "Date;Open;High;Low;Close;Volume\r\n"
ROWS = (
    "2024.01.02 00:00;2062.5;2078.1;2058.4;2073.2;81000\r\n"
    "2024.01.03 00:00;2073.2;2074.9;2030.5;2041.1;92000\r\n"
    "2024.01.04 00:00;2041.1;2050.3;2033.9;2043.6;87000\r\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "XAU_1d_data.csv"
    path.write_text(text, newline="")
    return path


def test_a_small_file_reads_into_sorted_floats(tmp_path: Path) -> None:
    lines = ROWS.splitlines(keepends=True)
    prices = read_gold_csv(write(tmp_path, HEADER + lines[2] + lines[0] + lines[1]))
    assert prices["Date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-01-02",
        "2024-01-03",
        "2024-01-04",
    ]
    assert prices["Close"].tolist() == [2073.2, 2041.1, 2043.6]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty (0 bytes)"),
        ("\r\n", "has no header or rows"),
        (HEADER, "the table has no rows"),
        (HEADER.replace(";", ",") + ROWS.replace(";", ","), "another separator than ';'"),
        (HEADER.replace("Close;", "") + ROWS, "missing column(s) Close"),
        (HEADER + ROWS + ROWS.splitlines(keepends=True)[1], "duplicate date(s) 2024-01-03"),
        (HEADER + ROWS.replace("2058.4", "-2058.4"), "'Low' must be positive"),
        (HEADER + ROWS.replace("2041.1;92000", "n/a;92000"), "'Close' must hold finite"),
        (HEADER + ROWS.replace("2024.01.03 00:00", "03/01/2024"), "must hold dates"),
        (HEADER + ROWS.replace("2078.1", "2000.0"), "inconsistent bar(s) in data row(s) [1]"),
    ],
    ids=[
        "empty",
        "blank",
        "header-only",
        "wrong-separator",
        "missing-column",
        "duplicate-dates",
        "negative-price",
        "non-numeric",
        "bad-date",
        "inconsistent-ohlc",
    ],
)
def test_bad_files_are_rejected_naming_the_file_and_the_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(core.DataError) as caught:
        read_gold_csv(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_pinned_file_from_the_mirror(datasets_mirror: Path) -> None:
    source = locate("", str(datasets_mirror))
    assert source.pinned
    assert source.path == datasets_mirror / "gold_prices" / "XAU_1d_data.csv"
    prices = read_gold_csv(source.path)
    assert len(prices) == 5391
    kept, dropped = core.drop_partial_last_bar(prices)
    assert dropped == "2025-06-06"
    assert kept["Date"].iloc[-1].strftime("%Y-%m-%d") == "2025-06-05"
    assert kept["Date"].iloc[0].strftime("%Y-%m-%d") == "2004-06-11"


def test_a_data_path_is_resolved_against_the_root(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = write(tmp_path / "data", HEADER + ROWS)
    source = locate("data/XAU_1d_data.csv", root=tmp_path)
    assert source.path == path
    assert not source.pinned
    with pytest.raises(core.DataError, match=r"'data/missing\.csv' does not exist"):
        locate("data/missing.csv", root=tmp_path)


def test_without_network_or_mirror_the_error_says_how_to_supply_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetch = datasets
    offline = dataclasses.replace(gold_data.PRICES, url="http://127.0.0.1:9/XAU.csv")
    monkeypatch.setattr(gold_data, "PRICES", offline)
    monkeypatch.setattr(fetch, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.delenv("DATASETS_MIRROR", raising=False)
    with pytest.raises(core.DataError) as caught:
        locate("", "")
    message = str(caught.value)
    assert "gold_prices/XAU_1d_data.csv" in message
    assert "connect to the internet" in message
    assert "DATASETS_MIRROR" in message

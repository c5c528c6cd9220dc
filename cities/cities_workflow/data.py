"""Finds the city table (the pinned copy, fetched and verified, or a file the user names)
and reads it into the validated, tidy table the recommender uses."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cities_workflow.core import validate_cities
from cities_workflow.params import CITY_TABLE
from lifecycle.io import data
from lifecycle.io.data import DataSource
from lifecycle.io.datasets import sha256_of as sha256_of  # part of this module's interface

# cities/cities_workflow/data.py -> the repository root, where ``datasets/`` lives.
# MLflow runs entry points inside the project folder, from a local path or a git URI
# checkout, so relative paths are resolved against the repository root.
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def locate(data_path: str, datasets_mirror: str = "", root: Path = REPOSITORY_ROOT) -> DataSource:
    """``data_path`` if given (relative to ``root``), else the pinned, verified copy."""
    return data.locate(data_path, CITY_TABLE, datasets_mirror, root)


def read_cities_csv(path: Path) -> pd.DataFrame:
    """Read the CSV (CRLF or LF, JSON in quoted cells) and validate it; problems raise
    ``DataError`` naming the file."""
    return data.read_csv_table(path, validate_cities, sep=",", kind="CSV file")

"""Finds the city table (the pinned copy, fetched and verified, or a file the user names)
and reads it into the validated, tidy table the recommender uses."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import pandas as pd

from cities_workflow.core import DataError, validate_cities

# cities/cities_workflow/data.py -> the repository root, where ``datasets/`` lives.
# MLflow runs entry points inside the project folder, from a local path or a git URI
# checkout, so relative paths are resolved against the repository root.
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DATASET = "cities"


@cache
def fetcher() -> ModuleType:
    """The repository's ``datasets/fetch.py`` (standard library only), loaded by path."""
    path = REPOSITORY_ROOT / "datasets" / "fetch.py"
    spec = importlib.util.spec_from_file_location("lifecycle_datasets_fetch", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise DataError(f"{path} is missing: the cities project needs the repository's datasets/")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class DataSource:
    """The file a run reads, and whether it is the pinned, sha256-verified copy."""

    path: Path
    pinned: bool


def locate(data_path: str, datasets_mirror: str = "", root: Path = REPOSITORY_ROOT) -> DataSource:
    """``data_path`` if given (relative to ``root``), else the pinned copy of the dataset.

    The pinned copy comes from the cache, the mirror (``datasets_mirror``, else the
    ``DATASETS_MIRROR`` environment variable) or a download, and is verified by sha256.
    """
    if data_path.strip():
        path = Path(data_path).expanduser()
        if not path.is_absolute():
            path = root / path
        if not path.is_file():
            raise DataError(
                f"data_path {data_path!r} is not a file (looked for {path}; relative paths are "
                f"resolved against the repository root {root})"
            )
        return DataSource(path=path, pinned=False)
    fetch = fetcher()
    try:
        return DataSource(path=fetch.fetch(DATASET, datasets_mirror or None), pinned=True)
    except fetch.FetchError as error:
        raise DataError(str(error)) from error


def sha256_of(path: Path) -> str:
    return fetcher().sha256_of(path)


def read_cities_csv(path: Path) -> pd.DataFrame:
    """Read the CSV (CRLF or LF, JSON in quoted cells) and validate it; problems raise
    ``DataError`` naming the file."""
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty (0 bytes)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as error:
        raise DataError(f"data file {path} has no header or rows") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"data file {path} is not a readable CSV file: {error}") from error
    try:
        return validate_cities(frame)
    except DataError as error:
        raise DataError(f"data file {path}: {error}") from error

"""Reads the iris table from disk into a validated DataFrame and fingerprints the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from iris_workflow.core import DataError, validate_frame

# The repository holding this project: iris/iris_workflow/data.py -> the repository root.
# MLflow runs entry points inside the project folder, so relative data paths are
# resolved against the repository root, where ``datasets/`` lives, wherever the
# repository was checked out (a local path or a git URI).
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_PATH = "datasets/iris.csv"


def resolve_data_path(data_path: str, root: Path = REPOSITORY_ROOT) -> Path:
    """The file ``data_path`` names: absolute as given, relative to ``root`` otherwise."""
    if not data_path.strip():
        raise DataError("data_path is empty: give a CSV file path such as datasets/iris.csv")
    path = Path(data_path).expanduser()
    if not path.is_absolute():
        path = root / path
    if not path.exists():
        raise DataError(
            f"data_path {data_path!r} does not exist (looked for {path}; relative paths are "
            f"resolved against the repository root {root})"
        )
    if not path.is_file():
        raise DataError(f"data_path {data_path!r} is not a file ({path})")
    return path


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def read_iris_csv(path: Path) -> pd.DataFrame:
    """Read and validate the CSV at ``path``; problems raise ``DataError`` naming the file."""
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty (0 bytes)")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as error:
        raise DataError(f"data file {path} has no header or rows") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"data file {path} is not a readable CSV file: {error}") from error
    try:
        return validate_frame(frame)
    except DataError as error:
        raise DataError(f"data file {path}: {error}") from error

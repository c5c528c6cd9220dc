"""Reads the iris table from disk into a validated DataFrame and fingerprints the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from iris_workflow.core import validate_frame
from iris_workflow.params import DEFAULT_DATA_PATH as DEFAULT_DATA_PATH
from lifecycle.io import data
from lifecycle.io.datasets import sha256_of as sha256_of  # part of this module's interface

# The repository holding this project: iris/iris_workflow/data.py -> the repository root.
# MLflow runs entry points inside the project folder, so relative data paths are
# resolved against the repository root, where ``datasets/`` lives, wherever the
# repository was checked out (a local path or a git URI).
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def resolve_data_path(data_path: str, root: Path = REPOSITORY_ROOT) -> Path:
    """The file ``data_path`` names: absolute as given, relative to ``root`` otherwise."""
    return data.resolve_data_path(data_path, root, example=DEFAULT_DATA_PATH)


def read_iris_csv(path: Path) -> pd.DataFrame:
    """Read and validate the CSV at ``path``; problems raise ``DataError`` naming the file."""
    return data.read_csv_table(path, validate_frame)

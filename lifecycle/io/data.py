"""Reading a project's data file: a path the user names, resolved against the repository
root (``mlflow run`` starts each step inside its project folder), or the pinned copy; a
CSV read as text and handed to the project's own validator; the file's sha256 (the one
``sha256_of``, from ``lifecycle.io.datasets``). Every problem raises ``DataError``
naming the file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.errors import DataError
from lifecycle.io.datasets import sha256_of as sha256_of  # the one digest of a data file

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from lifecycle.io.datasets import PinnedFile


def resolve_data_path(data_path: str, root: Path, example: str) -> Path:
    """The file ``data_path`` names: absolute as given, relative to ``root`` otherwise."""
    if not data_path.strip():
        raise DataError(f"data_path is empty: give a CSV file path such as {example}")
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


@dataclass(frozen=True)
class DataSource:
    """The file a run reads, and whether it is the pinned, sha256-verified copy."""

    path: Path
    pinned: bool


def locate(data_path: str, pinned: PinnedFile, datasets_mirror: str, root: Path) -> DataSource:
    """``data_path`` if given (relative to ``root``), else the verified copy of ``pinned``.

    The pinned copy comes from the cache, the mirror (``datasets_mirror``, else the
    ``DATASETS_MIRROR`` environment variable) or a download, and is verified by sha256.
    """
    from lifecycle.io import datasets

    if data_path.strip():
        return DataSource(path=resolve_data_path(data_path, root, example=""), pinned=False)
    try:
        return DataSource(path=datasets.fetch_file(pinned, datasets_mirror or None), pinned=True)
    except datasets.FetchError as error:
        raise DataError(str(error)) from error


def read_csv_table(
    path: Path,
    validate: Callable[[pd.DataFrame], pd.DataFrame],
    sep: str = ",",
    kind: str = "CSV file",
) -> pd.DataFrame:
    """Read ``path`` as text cells (empty cells missing) and return ``validate(frame)``;
    an empty, unparsable or invalid file raises ``DataError`` naming it."""
    import pandas as pd

    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty (0 bytes)")
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError as error:
        raise DataError(f"data file {path} has no header or rows") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"data file {path} is not a readable {kind}: {error}") from error
    try:
        return validate(frame)
    except DataError as error:
        raise DataError(f"data file {path}: {error}") from error

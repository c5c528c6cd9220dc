# Generated from lifecycle/data.py by python -m lifecycle.sync; edit the source.
"""Reading a project's data file: a path the user names, resolved against the repository
root (``mlflow run`` starts each step inside its project folder); a CSV read as text and
handed to the project's own validator; the file's sha256. Every problem raises
``DataError`` naming the file."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from lifecycle.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pandas as pd

_BLOCK = 1 << 16


def resolve_data_path(data_path: str, root: Path, example: str) -> Path:
    """The file ``data_path`` names: absolute as given, relative to ``root`` otherwise."""
    from pathlib import Path

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


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


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

"""Reading a batch input as Arrow, and writing an output's parts.

An input (at a ``lifecycle.io.locations.Location``) is one Parquet or CSV file, or a
directory of them;
CSV cells are read as text, so a value that is not a number is a bad row, not a failed
read. Every row read carries its origin (``source_file``, ``source_row``). A local folder is
walked following links, each folder and file once (a link loop adds nothing). A file that
cannot be read is named, with the reason and never its content. An output is a folder of
Parquet parts, claimed by ``lifecycle.io.outputs`` and completed by its manifest
(``lifecycle.io.manifests``).

Both scoring engines read and write through these functions (Spark through a Python
data source), so they see the same rows with the same types, on a laptop or a cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.errors import DataError
from lifecycle.io.locations import Location, locate

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa
    from pyarrow import fs as pafs

SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
FORMATS = ("parquet", "csv")
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}
# A CSV file is read in blocks of about this many bytes (a million short rows or so).
CSV_BLOCK_BYTES = 32 << 20


@dataclass(frozen=True)
class InputFiles:
    """The files of an input, in name order, all of one format."""

    location: Location
    files: tuple[str, ...]
    format: str

    def digest(self) -> str:
        """A fingerprint of the listing: each file's name, size and modification time."""
        fs = self.location.filesystem
        hasher = hashlib.sha256()
        for info in fs.get_file_info(list(self.files)):
            stamp = info.mtime_ns if info.mtime_ns is not None else ""
            hasher.update(f"{info.path}\0{info.size}\0{stamp}\n".encode())
        return hasher.hexdigest()[:16]


def _format_of(path: str) -> str | None:
    return _SUFFIXES.get(os.path.splitext(path)[1].lower())


def list_input(uri: str) -> InputFiles:
    """The Parquet or CSV files of an input file or directory (``_`` and ``.`` files are
    ignored, as Spark and Arrow do). Raises ``DataError`` when there are none, when
    formats are mixed, or when the location cannot be read."""
    from pyarrow import fs as pafs

    location = locate(uri)
    fs = location.filesystem
    try:
        info = fs.get_file_info(location.path)
        if info.type == pafs.FileType.File:
            candidates = [info.path]
        elif info.type == pafs.FileType.Directory:
            candidates = _s3_files(location) if location.is_s3 else _local_files(location.path)
        else:
            raise DataError(f"input {location.uri!r} does not exist")
    except PermissionError as error:
        raise DataError(f"input {location.uri!r} cannot be read: permission denied") from error
    except OSError as error:
        raise DataError(f"input {location.uri!r} cannot be read: {error}") from error
    formats = {path: _format_of(path) for path in candidates}
    unknown = [path for path, fmt in formats.items() if fmt is None]
    if unknown:
        raise DataError(
            f"input {location.uri!r} holds {os.path.basename(unknown[0])!r}, which is neither "
            f"Parquet (.parquet) nor CSV (.csv)"
        )
    kinds = sorted({fmt for fmt in formats.values() if fmt})
    if not candidates:
        raise DataError(f"input {location.uri!r} holds no Parquet or CSV file")
    if len(kinds) > 1:
        raise DataError(f"input {location.uri!r} mixes Parquet and CSV files; use one format")
    return InputFiles(location, tuple(candidates), kinds[0])


def _hidden(relative: str) -> bool:
    """Files and folders whose name starts with ``_`` or ``.`` are not data (Spark's rule)."""
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def _s3_files(location: Location) -> list[str]:
    from pyarrow import fs as pafs

    listing = location.filesystem.get_file_info(pafs.FileSelector(location.path, recursive=True))
    return sorted(
        entry.path
        for entry in listing
        if entry.type == pafs.FileType.File
        and not _hidden(os.path.relpath(entry.path, location.path))
    )


def _local_files(root: str) -> list[str]:
    """The data files under a local folder, following links but reading each folder and
    each file once: a link back to an ancestor (a loop) or a second link to a file
    already listed adds nothing. A broken link is an error that names it."""

    def refuse(error: OSError) -> None:
        raise error

    seen_folders: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    found = []
    for folder, subfolders, names in os.walk(root, followlinks=True, onerror=refuse):
        status = os.stat(folder)
        if (status.st_dev, status.st_ino) in seen_folders:
            subfolders[:] = []
            continue
        seen_folders.add((status.st_dev, status.st_ino))
        subfolders[:] = sorted(name for name in subfolders if not name.startswith(("_", ".")))
        for name in sorted(names):
            if name.startswith(("_", ".")):
                continue
            path = os.path.join(folder, name)
            try:
                file_status = os.stat(path)
            except OSError as error:
                relative = os.path.relpath(path, root)
                raise DataError(
                    f"input file {relative!r} cannot be read: {error.strerror or error}"
                ) from error
            key = (file_status.st_dev, file_status.st_ino)
            if key not in seen_files:
                seen_files.add(key)
                found.append(path)
    return sorted(found)


def relative_name(files: InputFiles, path: str) -> str:
    """A file's name relative to the input (its base name when the input is one file)."""
    if len(files.files) == 1 and files.files[0] == files.location.path:
        return os.path.basename(path)
    return os.path.relpath(path, files.location.path)


def csv_parse_options(fs: pafs.FileSystem, path: str) -> Any:
    """The CSV dialect of a file: the delimiter its header uses most (``,``, ``;``, tab
    or ``|``; the gold source file uses ``;``)."""
    import pyarrow.csv as pacsv

    with fs.open_input_stream(path) as handle:
        header = handle.read(64 * 1024).split(b"\n", 1)[0].decode("utf-8", "replace")
    delimiter = max(",;\t|", key=header.count)
    return pacsv.ParseOptions(delimiter=delimiter if header.count(delimiter) else ",")


def read_file(files: InputFiles, path: str) -> pa.Table:
    """One input file as an Arrow table with its origin columns (CSV cells as text)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fs = files.location.filesystem
    try:
        if files.format == "parquet":
            with fs.open_input_file(path) as handle:
                table = pq.read_table(handle)
        else:
            parse = csv_parse_options(fs, path)
            with fs.open_input_stream(path) as handle:
                header = pacsv.open_csv(handle, parse_options=parse).schema.names
            with fs.open_input_stream(path) as handle:
                table = pacsv.read_csv(
                    handle,
                    parse_options=parse,
                    convert_options=pacsv.ConvertOptions(
                        column_types={name: pa.string() for name in header},
                        strings_can_be_null=True,
                    ),
                )
    except (OSError, pa.ArrowException) as error:
        raise unreadable(files, path, error) from error
    return with_origin(table, relative_name(files, path))


def with_origin(table: pa.Table, name: str, first_row: int = 0) -> pa.Table:
    """``table``, rows ``first_row`` on of input file ``name``, with its origin columns;
    a file that has a column of either name is refused."""
    import pyarrow as pa

    for reserved in (SOURCE_FILE, SOURCE_ROW):
        if reserved in table.column_names:
            raise DataError(
                f"input file {name!r} has a column {reserved!r}, a name scoring adds; rename "
                f"or drop it"
            )
    import numpy as np

    count = table.num_rows
    table = table.append_column(SOURCE_FILE, pa.repeat(pa.scalar(name, pa.string()), count))
    return table.append_column(
        SOURCE_ROW, pa.array(np.arange(first_row, first_row + count, dtype="int64"))
    )


def file_schema(files: InputFiles, path: str) -> pa.Schema:
    """One file's columns (CSV columns as text), read from its footer or header only."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fs = files.location.filesystem
    try:
        if files.format == "parquet":
            with fs.open_input_file(path) as handle:
                return pq.read_schema(handle)
        with fs.open_input_stream(path) as handle:
            names = pacsv.open_csv(handle, parse_options=csv_parse_options(fs, path)).schema.names
    except (OSError, pa.ArrowException) as error:
        raise unreadable(files, path, error) from error
    return pa.schema([(name, pa.string()) for name in names])


def unreadable(files: InputFiles, path: str, error: Exception) -> DataError:
    """One line saying why an input file cannot be read, naming the file (and the CSV
    row) but never quoting its content."""
    name = relative_name(files, path)
    text = str(error)
    if isinstance(error, PermissionError):
        why = "permission denied"
    elif isinstance(error, IsADirectoryError | FileNotFoundError):
        why = "it is gone or not a file"
    elif "Empty CSV file" in text:
        why = "it is empty: a CSV input needs a header line"
    elif match := re.search(r"Expected (\d+) columns?, got (\d+)", text):
        row = _ragged_row(files, path, int(match.group(1)))
        where = f"data row {row}" if row is not None else "a row"
        why = f"{where} has {match.group(2)} fields where the header has {match.group(1)}"
    elif files.format == "parquet" and ("magic bytes" in text or "Parquet" in text):
        why = "it is not a Parquet file, or it is damaged or cut short"
    elif "invalid UTF8" in text or "UTF-8" in text:
        why = "it is not UTF-8 text"
    else:
        why = f"{type(error).__name__}: {text.split(':', 1)[0][:120]}"
    label = "Parquet" if files.format == "parquet" else "CSV"
    return DataError(f"input file {name!r} cannot be read as {label}: {why}")


def _ragged_row(files: InputFiles, path: str, fields: int, limit: int = 10_000_000) -> int | None:
    """The 0-based data row of a CSV file whose field count is not ``fields``."""
    import csv
    import io

    fs = files.location.filesystem
    delimiter = csv_parse_options(fs, path).delimiter
    with fs.open_input_stream(path) as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="replace", newline="")
        for number, row in enumerate(csv.reader(text, delimiter=delimiter)):
            if number > limit:
                return None
            if number and row and len(row) != fields:
                return number - 1
    return None


def file_schemas(files: InputFiles) -> list[pa.Schema]:
    """Each file's columns, in the order of ``files.files``, from footers and headers."""
    return [file_schema(files, path) for path in files.files]


def input_schema(files: InputFiles, schemas: list[pa.Schema] | None = None) -> pa.Schema:
    """The schema every file is read with: the union of the files' columns (``schemas``,
    when they were read already), then the origin columns."""
    import pyarrow as pa

    if schemas is None:
        schemas = file_schemas(files)
    try:
        merged = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise DataError(f"the files of input {files.location.uri!r} disagree: {error}") from error
    merged = pa.schema([pa.field(f.name, plain_type(f.type)) for f in merged])
    return merged.append(pa.field(SOURCE_FILE, pa.string())).append(
        pa.field(SOURCE_ROW, pa.int64())
    )


def plain_type(kind: pa.DataType) -> pa.DataType:
    """Large strings and binaries (pandas 3 writes them) as the plain types Spark uses."""
    import pyarrow as pa

    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind):
        return pa.binary()
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pa.string()  # read as its own wall clock, written out (``conform``)
    return kind


def read_all(files: InputFiles) -> pa.Table:
    """Every file of the input, in name order, as one table with the union schema."""
    import pyarrow as pa

    schema = input_schema(files)
    tables = [read_file(files, path) for path in files.files]
    return pa.concat_tables(
        [conform(table, schema) for table in tables], promote_options="permissive"
    )


def count_rows(files: InputFiles) -> int | None:
    """The rows of a Parquet input, from its footers; None for CSV (not known unread)."""
    import pyarrow.parquet as pq

    if files.format != "parquet":
        return None
    fs = files.location.filesystem
    total = 0
    for path in files.files:
        try:
            with fs.open_input_file(path) as handle:
                total += pq.read_metadata(handle).num_rows
        except (OSError, ValueError) as error:
            raise unreadable(files, path, error) from error
    return total


def _file_batches(files: InputFiles, path: str, rows: int) -> Iterator[pa.Table]:
    """One input file as tables of at most ``rows`` rows (a CSV file by blocks of about
    that size), cells of a CSV file as text."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    fs = files.location.filesystem
    try:
        if files.format == "parquet":
            with fs.open_input_file(path) as handle:
                parquet = pq.ParquetFile(handle)
                if parquet.metadata.num_rows == 0:
                    yield parquet.schema_arrow.empty_table()
                for batch in parquet.iter_batches(batch_size=rows):
                    yield pa.Table.from_batches([batch])
            return
        parse = csv_parse_options(fs, path)
        with fs.open_input_stream(path) as handle:
            header = pacsv.open_csv(handle, parse_options=parse).schema.names
        with fs.open_input_stream(path) as handle:
            reader = pacsv.open_csv(
                handle,
                read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                parse_options=parse,
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=True,
                ),
            )
            for batch in reader:
                yield pa.Table.from_batches([batch])
    except (OSError, pa.ArrowException) as error:
        raise unreadable(files, path, error) from error


def iter_tables(files: InputFiles, schema: pa.Schema, rows: int) -> Iterator[pa.Table]:
    """Every file of the input, in name order, as tables of at most about ``rows`` rows
    with ``schema`` (the union, ``input_schema``) and their origin columns."""

    for path in files.files:
        name = relative_name(files, path)
        offset = 0
        for table in _file_batches(files, path, rows):
            yield conform(with_origin(table, name, offset), schema)
            offset += table.num_rows


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns (missing ones null), cast to its types;
    a timestamp with a time zone becomes the text of its own wall clock."""
    import pyarrow as pa

    columns = []
    for field in schema:
        if field.name in table.column_names:
            column = table.column(field.name)
            zoned = pa.types.is_timestamp(column.type) and column.type.tz is not None
            if zoned and pa.types.is_string(field.type):
                # A zoned timestamp keeps the day and time its own clock showed; Spark
                # would turn it into UTC, so both engines read it as that text.
                import pyarrow.compute as pc

                column = pc.strftime(pc.local_timestamp(column), format="%Y-%m-%dT%H:%M:%S")
            columns.append(column.cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


class PartWriter:
    """One Parquet part at ``path`` under ``location``, written table by table (a row
    group each) and opened at its first table; with ``always``, an empty part with
    ``schema`` is written when no table came."""

    def __init__(self, path: str, location: Location, schema: pa.Schema, always: bool) -> None:
        self.path, self.location, self.schema, self.always = path, location, schema, always
        self.rows = 0
        self._stream: Any = None
        self._writer: Any = None

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            fs = self.location.filesystem
            if not self.location.is_s3:
                fs.create_dir(os.path.dirname(self.path), recursive=True)
            self._stream = fs.open_output_stream(self.path)
            self._writer = pq.ParquetWriter(self._stream, self.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        """Finish the part (the empty one, with ``always``, if nothing was written)."""
        if self._writer is None and self.always:
            self.write(self.schema.empty_table())
        if self._writer is not None:
            self._writer.close()
            self._stream.close()
            self._writer = self._stream = None

    def abandon(self) -> None:
        """Close the file on the way out of a failure; the job's claim removes it."""
        for closable in (self._writer, self._stream):
            if closable is not None:
                with contextlib.suppress(Exception):
                    closable.close()
        self._writer = self._stream = None


def write_part(table: pa.Table, path: str, location: Location) -> str:
    """Write ``table`` as one Parquet file at ``path`` under ``location`` (a task that
    runs again writes the same name, so a retry replaces its own part)."""
    import pyarrow.parquet as pq

    fs = location.filesystem
    if not location.is_s3:
        fs.create_dir(os.path.dirname(path), recursive=True)
    with fs.open_output_stream(path) as handle:
        pq.write_table(table, handle)
    return path

# Generated from lifecycle/tables.py by python -m lifecycle.sync; edit the source.
"""Where a batch-scoring input or output lives, and reading and writing it as Arrow.

A location is a local path or an ``s3://bucket/prefix`` URI (the S3 endpoint and keys come
from the environment, as for MLflow: ``MLFLOW_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``). An input is one Parquet or CSV file, or a directory of them;
CSV cells are read as text, so a value that is not a number is a bad row, not a failed
read. Every row read carries its origin (``source_file``, ``source_row``). A local folder is
walked following links, each folder and file once (a link loop adds nothing). A file that
cannot be read is named, with the reason and never its content. An output is a folder of
Parquet parts, claimed and completed by ``lifecycle.outputs``.

Both scoring engines read and write through these functions (Spark through a Python
data source), so they see the same rows with the same types, on a laptop or a cluster.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from lifecycle.errors import DataError

if TYPE_CHECKING:
    import pyarrow as pa
    from pyarrow import fs as pafs

SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
SUCCESS_MARKER = "_SUCCESS"
FORMATS = ("parquet", "csv")
_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


@dataclass(frozen=True)
class Location:
    """A local path or an S3 URI, with the filesystem that reaches it."""

    uri: str
    path: str  # the path inside ``filesystem``: bucket/key for S3, absolute for local

    @property
    def is_s3(self) -> bool:
        return self.uri.startswith("s3://")

    @property
    def filesystem(self) -> pafs.FileSystem:
        return filesystem_for(self.uri)

    def child(self, name: str) -> Location:
        return Location(f"{self.uri.rstrip('/')}/{name}", f"{self.path.rstrip('/')}/{name}")

    def sibling(self, suffix: str) -> Location:
        """The location beside this one whose name ends in ``suffix`` (``out-rejected``)."""
        return Location(self.uri.rstrip("/") + suffix, self.path.rstrip("/") + suffix)


def locate(uri: str) -> Location:
    """The location of a local path or an ``s3://bucket/prefix`` URI."""
    text = str(uri).strip()
    if not text:
        raise DataError("the location is empty: give a path or an s3://bucket/prefix URI")
    parsed = urlparse(text)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise DataError(f"{text!r} names no bucket: use s3://bucket/prefix")
        key = parsed.path.strip("/")
        return Location(f"s3://{parsed.netloc}/{key}".rstrip("/"), f"{parsed.netloc}/{key}")
    if parsed.scheme in ("", "file"):
        if parsed.scheme == "file" and parsed.netloc not in ("", "localhost"):
            raise DataError(f"{text!r} names another host; use a local path or an s3:// URI")
        local = unquote(parsed.path) if parsed.scheme == "file" else text
        path = os.path.realpath(os.path.expanduser(local))
        return Location(path, path)
    raise DataError(f"{text!r}: only local paths and s3:// URIs are supported")


def filesystem_for(uri: str) -> pafs.FileSystem:
    """The Arrow filesystem for ``uri``: local, or S3 at MLflow's endpoint."""
    from pyarrow import fs as pafs

    if not uri.startswith("s3://"):
        return pafs.LocalFileSystem()
    endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    options: dict[str, object] = {
        "region": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "allow_bucket_creation": False,
        "allow_bucket_deletion": False,
    }
    if endpoint:
        parsed = urlparse(endpoint)
        options["endpoint_override"] = parsed.netloc or parsed.path
        options["scheme"] = parsed.scheme or "https"
    return pafs.S3FileSystem(**options)


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
    for reserved in (SOURCE_FILE, SOURCE_ROW):
        if reserved in table.column_names:
            raise DataError(
                f"input file {relative_name(files, path)!r} has a column {reserved!r}, a name "
                f"scoring adds; rename or drop it"
            )
    name = relative_name(files, path)
    table = table.append_column(SOURCE_FILE, pa.array([name] * table.num_rows, pa.string()))
    return table.append_column(SOURCE_ROW, pa.array(range(table.num_rows), pa.int64()))


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


def input_schema(files: InputFiles) -> pa.Schema:
    """The schema every file is read with: the union of the files' columns."""
    import pyarrow as pa

    schemas = [file_schema(files, path) for path in files.files]
    try:
        merged = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise DataError(f"the files of input {files.location.uri!r} disagree: {error}") from error
    merged = pa.schema([pa.field(f.name, _plain_type(f.type)) for f in merged])
    return merged.append(pa.field(SOURCE_FILE, pa.string())).append(
        pa.field(SOURCE_ROW, pa.int64())
    )


def _plain_type(kind: pa.DataType) -> pa.DataType:
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

"""Where a batch-scoring input or output lives, and reading and writing it as Arrow.

A location is a local path or an ``s3://bucket/prefix`` URI (the S3 endpoint and keys come
from the environment, as for MLflow: ``MLFLOW_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``). An input is one Parquet or CSV file, or a directory of them;
CSV cells are read as text, so a value that is not a number is a bad row, not a failed
read. Every row read carries its origin (``source_file``, ``source_row``). An output is a
directory of Parquet parts that counts as complete only once ``_SUCCESS`` is written, last.

Both scoring engines read and write through these functions (Spark through a Python
data source), so they see the same rows with the same types, on a laptop or a cluster.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

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
        path = os.path.abspath(parsed.path if parsed.scheme == "file" else text)
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
            listing = fs.get_file_info(pafs.FileSelector(location.path, recursive=True))
            candidates = sorted(
                entry.path
                for entry in listing
                if entry.type == pafs.FileType.File
                and not any(
                    part.startswith(("_", "."))
                    for part in os.path.relpath(entry.path, location.path).split("/")
                )
            )
        else:
            raise DataError(f"input {location.uri!r} does not exist")
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
    except (OSError, pa.ArrowInvalid) as error:
        raise DataError(f"input file {path!r} cannot be read as {files.format}: {error}") from error
    for reserved in (SOURCE_FILE, SOURCE_ROW):
        if reserved in table.column_names:
            raise DataError(f"input file {path!r} has a column {reserved!r}, a name scoring adds")
    name = relative_name(files, path)
    table = table.append_column(SOURCE_FILE, pa.array([name] * table.num_rows, pa.string()))
    return table.append_column(SOURCE_ROW, pa.array(range(table.num_rows), pa.int64()))


def input_schema(files: InputFiles) -> pa.Schema:
    """The schema every file is read with: the union of the files' columns."""
    import pyarrow as pa

    schemas = []
    for path in files.files:
        if files.format == "parquet":
            import pyarrow.parquet as pq

            with files.location.filesystem.open_input_file(path) as handle:
                schemas.append(pq.read_schema(handle))
        else:
            import pyarrow.csv as pacsv

            fs = files.location.filesystem
            with fs.open_input_stream(path) as handle:
                names = pacsv.open_csv(
                    handle, parse_options=csv_parse_options(fs, path)
                ).schema.names
            schemas.append(pa.schema([(name, pa.string()) for name in names]))
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
    """``table`` with exactly ``schema``'s columns (missing ones null), cast to its types."""
    import pyarrow as pa

    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table.column(field.name).cast(field.type))
        else:
            columns.append(pa.nulls(table.num_rows, field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def exists(location: Location) -> bool:
    """Whether anything is stored at ``location`` (a file, or a directory that is not empty)."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    try:
        info = fs.get_file_info(location.path)
        if info.type == pafs.FileType.File:
            return True
        if info.type != pafs.FileType.Directory:
            return False
        listing = fs.get_file_info(pafs.FileSelector(location.path, recursive=True))
        return any(entry.type == pafs.FileType.File for entry in listing)
    except OSError as error:
        raise DataError(f"output {location.uri!r} cannot be checked: {error}") from error


def remove(location: Location) -> None:
    """Delete whatever is stored at ``location``."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    info = fs.get_file_info(location.path)
    if info.type == pafs.FileType.File:
        fs.delete_file(location.path)
    elif info.type == pafs.FileType.Directory:
        fs.delete_dir_contents(location.path, missing_dir_ok=True)
        if not location.is_s3:
            fs.delete_dir(location.path)


def write_part(table: pa.Table, location: Location, part: str = "") -> str:
    """Write ``table`` as one Parquet part under ``location``; returns the part's path."""
    import pyarrow.parquet as pq

    fs = location.filesystem
    if not location.is_s3:
        fs.create_dir(location.path, recursive=True)
    name = f"part-{part or '0'}-{uuid.uuid4().hex[:12]}.parquet"
    path = f"{location.path.rstrip('/')}/{name}"
    with fs.open_output_stream(path) as handle:
        pq.write_table(table, handle)
    return path


def mark_complete(location: Location) -> None:
    """Write the ``_SUCCESS`` marker: the output is whole."""
    fs = location.filesystem
    if not location.is_s3:
        fs.create_dir(location.path, recursive=True)
    with fs.open_output_stream(f"{location.path.rstrip('/')}/{SUCCESS_MARKER}") as handle:
        handle.write(b"")


def read_output(uri: str) -> pa.Table:
    """A complete scoring output (its ``_SUCCESS`` marker present) as one table."""
    import pyarrow.dataset as ds

    location = locate(uri)
    fs = location.filesystem
    marker = fs.get_file_info(f"{location.path.rstrip('/')}/{SUCCESS_MARKER}")
    from pyarrow import fs as pafs

    if marker.type != pafs.FileType.File:
        raise DataError(f"output {location.uri!r} is not complete: it has no {SUCCESS_MARKER}")
    return ds.dataset(location.path, filesystem=fs, format="parquet").to_table()

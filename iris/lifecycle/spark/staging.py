# Generated from lifecycle/spark/staging.py by python -m lifecycle.sync; edit the source.
"""An input read into a Spark DataFrame, and a DataFrame's rows written into a claimed
output folder. Local Parquet whose files agree goes through Spark's own reader; CSV, S3
and mixed schemas through the data source (``lifecycle.spark.source``). Locally Spark's
own Parquet writer fills a hidden staging folder whose parts are then moved in, named
with the claim's token; on S3 the data source writes the parts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.io import tables
from lifecycle.spark.source import SOURCE_NAME, encode_schema

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from lifecycle.io.claims import Claim


def spark_schema(schema: pa.Schema) -> Any:
    """An Arrow schema as Spark's."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def native_parquet(files: tables.InputFiles, schemas: Sequence[pa.Schema]) -> bool:
    """Whether Spark's own Parquet reader can read the input as ``tables`` would: local
    Parquet files whose columns (``schemas``, one per file) all agree, none needing a
    conversion of ours."""
    if files.location.is_s3 or files.format != "parquet":
        return False
    first = schemas[0].remove_metadata()
    if any(not schema.remove_metadata().equals(first) for schema in schemas[1:]):
        return False
    return all(tables.plain_type(field.type) == field.type or _text(field.type) for field in first)


def _text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_large_string(kind) or pa.types.is_string_view(kind))


def read(
    spark: SparkSession, files: tables.InputFiles, schema: pa.Schema, native: bool
) -> DataFrame:
    """The input as a DataFrame with its origin columns. Local Parquet goes through
    Spark's own reader (``source_file`` then holds the file's URI, which the score pass
    turns into the name ``tables`` gives it); CSV, S3 and mixed schemas through the
    Python data source, one partition per file."""
    import pyarrow as pa
    from pyspark.sql import functions as sf

    if native:
        data = pa.schema(
            [f for f in schema if f.name not in (tables.SOURCE_FILE, tables.SOURCE_ROW)]
        )
        frame = spark.read.schema(spark_schema(data)).parquet(*files.files)
        return frame.select(
            *data.names,
            sf.col("_metadata.file_path").alias(tables.SOURCE_FILE),
            sf.col("_metadata.row_index").cast("long").alias(tables.SOURCE_ROW),
        )
    return (
        spark.read.format(SOURCE_NAME)
        .schema(spark_schema(schema))
        .option("input", files.location.uri)
        .option("files", json.dumps(list(files.files)))
        .option("format", files.format)
        .option("arrow_schema", encode_schema(schema))
        .load()
    )


def file_names(files: tables.InputFiles) -> dict[str, str]:
    """Each input file's path as Spark's reader reports it, to the name ``tables`` uses."""
    return {os.path.normpath(path): tables.relative_name(files, path) for path in files.files}


def origin_name(value: str, names: dict[str, str]) -> str:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(value)
    path = unquote(parsed.path) if parsed.scheme == "file" else value
    return names.get(os.path.normpath(path), value)


def write(frame: DataFrame, claim: Claim, schema: pa.Schema) -> None:
    """Write ``frame``'s parts into a claimed folder, each named with the claim's token.
    Locally Spark's own Parquet writer fills a hidden staging folder, whose files are then
    moved in; on S3 the Python data source writes the parts. No marker is written."""
    selected = frame.select(*schema.names)
    if claim.location.is_s3:
        (
            selected.write.format(SOURCE_NAME)
            .mode("append")
            .option("path", claim.location.uri)
            .option("token", claim.token)
            .option("arrow_schema", encode_schema(schema))
            .save()
        )
        return
    staging = claim.staging()
    selected.write.mode("append").parquet(staging.uri)
    written = sorted(Path(staging.path).glob("part-*.parquet"))
    for number, part in enumerate(written):
        os.replace(part, claim.part_path(f"{number:05d}"))
    shutil.rmtree(staging.path, ignore_errors=True)

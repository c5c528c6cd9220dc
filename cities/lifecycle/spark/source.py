# Generated from lifecycle/spark/source.py by python -m lifecycle.sync; edit the source.
"""A Spark data source over ``lifecycle.io.tables``: it reads an input's files (one
partition per file, each file read and typed exactly as the local engine reads it) and
writes output parts named with the claim's token, locally or on S3, with no Hadoop S3
connector. Its options carry the Arrow schema, so every executor reads the same types."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa
    from pyspark.sql import SparkSession

SOURCE_NAME = "lifecycle_tables"


def encode_schema(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode()


def decode_schema(text: str) -> pa.Schema:
    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(text)))


def register_source(spark: SparkSession) -> None:
    """Register the data source that reads an input's files and writes output parts."""
    from pyspark.sql.datasource import (
        DataSource,
        DataSourceArrowWriter,
        DataSourceReader,
        InputPartition,
        WriterCommitMessage,
    )

    @dataclass
    class Written(WriterCommitMessage):
        path: str

    class Reader(DataSourceReader):
        def __init__(self, options: dict[str, str]) -> None:
            self.options = options

        def partitions(self) -> list[InputPartition]:
            return [InputPartition(path) for path in json.loads(self.options["files"])]

        def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
            from lifecycle.io import locations as kit_locations
            from lifecycle.io import tables as kit_tables

            files = kit_tables.InputFiles(
                kit_locations.locate(self.options["input"]),
                tuple(json.loads(self.options["files"])),
                self.options["format"],
            )
            schema = decode_schema(self.options["arrow_schema"])
            table = kit_tables.conform(kit_tables.read_file(files, partition.value), schema)
            yield from table.to_batches()

    class Writer(DataSourceArrowWriter):
        def __init__(self, options: dict[str, str]) -> None:
            self.options = options

        def write(self, iterator: Iterator[pa.RecordBatch]) -> Written:
            import pyarrow as pa
            from pyspark import TaskContext

            from lifecycle.io import locations as kit_locations
            from lifecycle.io import tables as kit_tables

            schema = decode_schema(self.options["arrow_schema"])
            batches = list(iterator)
            if not batches or sum(b.num_rows for b in batches) == 0:
                return Written("")
            table = kit_tables.conform(pa.Table.from_batches(batches), schema)
            context = TaskContext.get()
            part = context.partitionId() if context else 0
            location = kit_locations.locate(self.options["path"])
            path = f"{location.path.rstrip('/')}/part-{part:05d}-{self.options['token']}.parquet"
            return Written(kit_tables.write_part(table, path, location))

        def commit(self, messages: list[WriterCommitMessage | None]) -> None:
            """Nothing to do: the score step writes the completion marker, last."""

        def abort(self, messages: list[WriterCommitMessage | None]) -> None:
            from lifecycle.io import locations as kit_locations

            location = kit_locations.locate(self.options["path"])
            for message in messages:
                path = getattr(message, "path", "")
                if path:
                    location.filesystem.delete_file(path)

    class Source(DataSource):
        @classmethod
        def name(cls) -> str:
            return SOURCE_NAME

        def reader(self, schema: Any) -> Reader:
            return Reader(dict(self.options))

        def writer(self, schema: Any, overwrite: bool) -> Writer:
            return Writer(dict(self.options))

    spark.dataSource.register(Source)

# Generated from lifecycle/io/manifests.py by python -m lifecycle.sync; edit the source.
"""A score output's manifest, ``_SUCCESS``, written last: the run, the model version, the
input and its digest, the row counts and every part with its rows. A folder is complete
when its manifest parses and names the folder's claim; every reader reads exactly the
parts it lists (``verify``, ``read_output``), and refuses, with the reason, a folder
without one or holding anything it does not list."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle.errors import DataError
from lifecycle.io.claims import (
    CLAIM,
    PART,
    SHOWN,
    SUCCESS_MARKER,
    TOKEN,
    WRITER,
    Claim,
    ClaimRecord,
    entries,
    read_entry,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from lifecycle.io.locations import Location


@dataclass
class Manifest:
    """The ``_SUCCESS`` marker's content."""

    token: str
    run_id: str
    input: str
    input_digest: str
    model_uri: str
    model_name: str | None
    model_version: int | None
    rows: dict[str, int]
    parts: list[dict[str, Any]] = field(default_factory=list)
    rejected_output: str | None = None
    writer: str = WRITER

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=2, sort_keys=True).encode()

    def part_names(self) -> list[str]:
        return [str(part["name"]) for part in self.parts]


def parse_manifest(text: bytes) -> Manifest | None:
    """The manifest in ``text``, or None unless it is a well-formed manifest of this
    collection: its writer, a token of 16 hex digits, and parts named with that token."""
    try:
        data = json.loads(text)
        manifest = Manifest(**{key: data[key] for key in data if key in Manifest.__annotations__})
    except (ValueError, TypeError, AttributeError):
        return None
    if manifest.writer != WRITER or not isinstance(manifest.token, str):
        return None
    if TOKEN.fullmatch(manifest.token) is None or not isinstance(manifest.parts, list):
        return None
    for part in manifest.parts:
        name = part.get("name") if isinstance(part, dict) else None
        match = PART.fullmatch(name) if isinstance(name, str) else None
        rows = part.get("rows") if isinstance(part, dict) else None
        if match is None or match.group("token") != manifest.token or not isinstance(rows, int):
            return None
    return manifest


def parts(claim_: Claim) -> list[dict[str, Any]]:
    """The parts this job wrote under its folder (named with its token), with their row
    counts from their footers."""
    import pyarrow.parquet as pq

    fs = claim_.location.filesystem
    found = []
    for name, is_dir in entries(claim_.location):
        match = PART.fullmatch(name)
        if is_dir or match is None or match.group("token") != claim_.token:
            continue
        with fs.open_input_file(f"{claim_.location.path.rstrip('/')}/{name}") as handle:
            rows = pq.read_metadata(handle).num_rows
        found.append({"name": name, "rows": int(rows)})
    return sorted(found, key=lambda part: str(part["name"]))


def complete(claim_: Claim, manifest: Manifest) -> None:
    """Write the manifest: the folder is whole. Call last."""
    manifest.parts = parts(claim_)
    fs = claim_.location.filesystem
    path = f"{claim_.location.path.rstrip('/')}/{SUCCESS_MARKER}"
    temporary = f"{claim_.location.path.rstrip('/')}/{SUCCESS_MARKER}.{claim_.token}.tmp"
    if claim_.location.is_s3:
        with fs.open_output_stream(path) as handle:
            handle.write(manifest.to_json())
        return
    with fs.open_output_stream(temporary) as handle:
        handle.write(manifest.to_json())
    fs.move(temporary, path)


def read_manifest(location: Location) -> Manifest | None:
    """The manifest of a folder, or None when it has none this collection wrote."""
    raw = read_entry(location, SUCCESS_MARKER)
    return None if raw is None else parse_manifest(raw)


def verify(location: Location) -> Manifest:
    """Check a complete output against its manifest: its claim names the same job, and
    the folder holds exactly the claim, the manifest and every part listed, each with
    its rows. Returns the manifest, or raises ``DataError`` saying what is wrong."""
    from pyarrow import fs as pafs

    if location.filesystem.get_file_info(location.path).type != pafs.FileType.Directory:
        raise DataError(f"output {location.uri!r} is not a folder of a score job's parts")
    manifest = read_manifest(location)
    if manifest is None:
        raise DataError(
            f"output {location.uri!r} has no manifest of a score job ({SUCCESS_MARKER}): it is "
            f"incomplete (its job stopped before the end) or not an output of this collection"
        )
    record = ClaimRecord.from_json(read_entry(location, CLAIM) or b"")
    if record is None or record.token != manifest.token:
        raise DataError(f"output {location.uri!r}: its manifest and its claim disagree")
    listed = manifest.part_names()
    names = {name for name, _ in entries(location)}
    extra = sorted(names - {CLAIM, SUCCESS_MARKER, *listed})
    if extra:
        more = f" and {len(extra) - SHOWN} more" if len(extra) > SHOWN else ""
        raise DataError(
            f"output {location.uri!r} holds {', '.join(extra[:SHOWN])}{more}, which its "
            f"manifest does not list; it was not read"
        )
    found = parts(Claim(location, record))
    if found != manifest.parts:
        raise DataError(f"output {location.uri!r} does not hold the parts its manifest lists")
    return manifest


def read_output(uri: str) -> pa.Table:
    """A complete scoring output as one table: exactly the parts its manifest lists."""
    import pyarrow.dataset as ds

    from lifecycle.io.locations import locate

    location = locate(uri)
    manifest = verify(location)
    base = location.path.rstrip("/")
    paths = [f"{base}/{name}" for name in manifest.part_names()]
    return ds.dataset(paths, filesystem=location.filesystem, format="parquet").to_table()


def is_output(location: Location) -> bool:
    """Whether a folder looks like a score output of this collection (it holds a claim
    or a manifest of one), so that a reader must take it through ``verify``."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    if fs.get_file_info(location.path).type != pafs.FileType.Directory:
        return False
    base = location.path.rstrip("/")
    found = fs.get_file_info([f"{base}/{CLAIM}", f"{base}/{SUCCESS_MARKER}"])
    if found[0].type == pafs.FileType.File:
        return True
    return found[1].type == pafs.FileType.File and read_manifest(location) is not None

# Generated from lifecycle/io/claims.py by python -m lifecycle.sync; edit the source.
"""The names and records by which an output folder is claimed: ``_CLAIM`` and the
takeover markers hold a ``ClaimRecord`` (the job: run id, host, process, and a token of 16
lowercase hex digits); every other entry a job writes carries its full token in its
exact name (``owned``). Also the filesystem operations a claim needs (an exclusive
create, locally and on S3; a recursive listing) and the liveness test of the job behind a
record. How a folder is claimed, taken over and released is ``lifecycle.io.outputs``."""

from __future__ import annotations

import json
import os
import posixpath
import re
import socket
import uuid
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lifecycle import processes
from lifecycle.errors import DataError

if TYPE_CHECKING:
    from lifecycle.io.locations import Location

CLAIM = "_CLAIM"
SUCCESS_MARKER = "_SUCCESS"
TAKEOVER_PREFIX = "_TAKEOVER-"
STAGING_PREFIX = "_staging-"
STATS_PREFIX = "_stats-"
WRITER = "mlflow-lifecycle-projects score"
TOKEN = re.compile(r"[0-9a-f]{16}")
_TOKEN = r"(?P<token>[0-9a-f]{16})"
# The names a job writes at the top of its folder, each carrying its full token.
PART = re.compile(rf"part-[0-9]{{5}}(?:-[0-9]{{4}})?-{_TOKEN}\.parquet")
TEMPORARY_MANIFEST = re.compile(rf"{SUCCESS_MARKER}\.{_TOKEN}\.tmp")
TAKEOVER = re.compile(rf"{TAKEOVER_PREFIX}{_TOKEN}")
STAGING = re.compile(rf"{STAGING_PREFIX}{_TOKEN}")
STATS = re.compile(rf"{STATS_PREFIX}{_TOKEN}")
STATS_FILE = re.compile(r"part-[0-9]{5}\.json")
SHOWN = 3  # foreign names a refusal lists


@dataclass(frozen=True)
class ClaimRecord:
    """What ``_CLAIM`` (and a takeover marker) holds: the job that owns the folder."""

    token: str
    run_id: str
    host: str
    pid: int
    process_start: str
    writer: str = WRITER

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, text: bytes) -> ClaimRecord | None:
        """The record in ``text``, or None unless it is a well-formed record of this
        collection: its writer, a token of 16 hex digits, a run id, a host, a pid."""
        try:
            data = json.loads(text)
            record = cls(
                token=data["token"],
                run_id=data["run_id"],
                host=data["host"],
                pid=data["pid"],
                process_start=str(data.get("process_start", "")),
                writer=data["writer"],
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        well_formed = (
            record.writer == WRITER
            and isinstance(record.token, str)
            and TOKEN.fullmatch(record.token) is not None
            and isinstance(record.run_id, str)
            and bool(record.run_id.strip())
            and isinstance(record.host, str)
            and bool(record.host.strip())
            and isinstance(record.pid, int)
            and not isinstance(record.pid, bool)
            and record.pid > 0
        )
        return record if well_formed else None


@dataclass(frozen=True)
class Claim:
    """An output folder this job owns."""

    location: Location
    record: ClaimRecord

    @property
    def token(self) -> str:
        return self.record.token

    def part_path(self, part: str) -> str:
        """The path of part ``part`` of this job under the folder."""
        return f"{self.location.path.rstrip('/')}/part-{part}-{self.token}.parquet"

    def staging(self) -> Location:
        """A folder inside the output, hidden from readers, for an engine's own writer."""
        return self.location.child(f"{STAGING_PREFIX}{self.token}")

    def stats(self) -> Location:
        """A folder inside the output, hidden from readers, for per-task row counts."""
        return self.location.child(f"{STATS_PREFIX}{self.token}")


# --- the filesystem operations a claim needs ----------------------------------------


def _alive(record: ClaimRecord) -> bool:
    """Whether the process that claimed a folder on this host still runs."""
    return processes.is_running(record.pid, record.process_start)


def _s3_client() -> Any:
    import boto3

    endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client("s3", endpoint_url=endpoint or None)


def _split_s3(path: str) -> tuple[str, str]:
    bucket, _, key = path.partition("/")
    return bucket, key


def create_exclusive(location: Location, name: str, body: bytes) -> bool:
    """Create ``name`` under ``location`` only if it does not exist; False if it does."""
    path = f"{location.path.rstrip('/')}/{name}"
    if location.is_s3:
        from botocore.exceptions import ClientError

        bucket, key = _split_s3(path)
        try:
            _s3_client().put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                return False
            raise DataError(
                f"output {location.uri!r} cannot be claimed: the S3 store answered {code} to a "
                f"write made only if the object is absent"
            ) from error
        return True
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(handle, "wb") as stream:
        stream.write(body)
    return True


def entries(location: Location) -> list[tuple[str, bool]]:
    """(name relative to the folder, is a directory) for everything under ``location``."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    listing = fs.get_file_info(pafs.FileSelector(location.path, recursive=True))
    base = location.path.rstrip("/")
    return [
        (posixpath.relpath(info.path, base), info.type == pafs.FileType.Directory)
        for info in listing
    ]


def read_entry(location: Location, name: str) -> bytes | None:
    """The bytes of file ``name`` under ``location``, or None when there is no such file."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    path = f"{location.path.rstrip('/')}/{name}"
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as handle:
        data: bytes = handle.read()
    return data


def remove_folder(location: Location, name: str) -> None:
    """Delete folder ``name`` under ``location`` with everything in it, locally or on S3
    (where a folder is a prefix, perhaps with a marker object of its own)."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    path = f"{location.path.rstrip('/')}/{name}"
    if fs.get_file_info(path).type == pafs.FileType.Directory:
        fs.delete_dir(path)


def kind_of(location: Location) -> str:
    """ "missing", "file" or "dir"."""
    from pyarrow import fs as pafs

    info = location.filesystem.get_file_info(location.path)
    if info.type == pafs.FileType.File:
        return "file"
    if info.type == pafs.FileType.Directory:
        return "dir"
    return "missing"


def owned(name: str, tokens: set[str] | frozenset[str]) -> bool:
    """Whether an entry of a folder (its path relative to the folder) was written by a
    job holding one of ``tokens``, judged by its exact name. ``_CLAIM``, ``_SUCCESS``
    and takeover markers are judged by their content (``survey``), not here."""
    top, _, below = name.partition("/")
    if below:
        staging = STAGING.fullmatch(top)
        if staging is not None:
            return staging.group("token") in tokens
        stats = STATS.fullmatch(top)
        return (
            stats is not None
            and stats.group("token") in tokens
            and (STATS_FILE.fullmatch(below) is not None)
        )
    for pattern in (PART, TEMPORARY_MANIFEST, STAGING, STATS):
        match = pattern.fullmatch(top)
        if match is not None:
            return match.group("token") in tokens
    return False


def new_record(run_id: str) -> ClaimRecord:
    """The claim of this process for run ``run_id``."""
    return ClaimRecord(
        token=uuid.uuid4().hex[:16],
        run_id=run_id,
        host=socket.gethostname(),
        pid=os.getpid(),
        process_start=processes.start_time(os.getpid()),
    )


def job_active_here_or_tracked(record: ClaimRecord) -> bool:
    """Whether the job behind a claim may still be writing: on this host, its process
    lives; elsewhere, its MLflow run is still RUNNING (unknown counts as running)."""
    if record.host == socket.gethostname():
        return _alive(record)
    try:
        import mlflow

        return bool(mlflow.MlflowClient().get_run(record.run_id).info.status == "RUNNING")
    except Exception:  # an unreadable run: assume it may still write
        return True

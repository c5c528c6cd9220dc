# Generated from lifecycle/outputs.py by python -m lifecycle.sync; edit the source.
"""Claiming, filling and completing a score job's output folders, so that no job deletes
or mixes data it did not write.

An output folder written by this collection holds, in the order they are written:

- ``_CLAIM``: created exclusively (``O_EXCL`` locally, ``If-None-Match: *`` on S3) before
  any row is read. It names the job (run id, host, process) and a token; of two jobs to
  one output, exactly one creates it and the other stops.
- ``part-<n>-<token>.parquet``: the rows, every part named with the claim's token.
- ``_SUCCESS``: the manifest, last: the run, the model version, the input and its
  digest, the row counts and every part with its rows. A reader that finds it can
  check the folder against it (``verify``).

``mode=overwrite`` replaces only such a folder: one whose every entry is its claim, its
manifest or a part or staging folder carrying its token. Anything else in the way is
refused by name and left as it is. An incomplete folder (no manifest) is replaced only
when the job that claimed it is gone.
"""

from __future__ import annotations

import json
import os
import posixpath
import socket
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.errors import DataError
from lifecycle.tables import SUCCESS_MARKER, Location

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pyarrow as pa

CLAIM = "_CLAIM"
TAKEOVER_PREFIX = "_TAKEOVER-"
STAGING_PREFIX = "_staging-"
STATS_PREFIX = "_stats-"
WRITER = "mlflow-lifecycle-projects score"


@dataclass(frozen=True)
class ClaimRecord:
    """What ``_CLAIM`` holds: the job that owns the folder."""

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
        try:
            data = json.loads(text)
            if data.get("writer") != WRITER:
                return None
            return cls(
                token=str(data["token"]),
                run_id=str(data["run_id"]),
                host=str(data["host"]),
                pid=int(data["pid"]),
                process_start=str(data.get("process_start", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


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


# --- the filesystem operations a claim needs ----------------------------------------


def _process_start(pid: int) -> str:
    """The start time of process ``pid`` (from /proc), or "" where it cannot be read."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text[text.rindex(")") + 2 :].split()[19]


def _alive(record: ClaimRecord) -> bool:
    """Whether the process that claimed a folder on this host still runs."""
    try:
        os.kill(record.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = _process_start(record.pid)
    return not record.process_start or not started or started == record.process_start


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


def _entries(location: Location) -> list[tuple[str, bool]]:
    """(name relative to the folder, is a directory) for everything under ``location``."""
    from pyarrow import fs as pafs

    fs = location.filesystem
    listing = fs.get_file_info(pafs.FileSelector(location.path, recursive=True))
    base = location.path.rstrip("/")
    return [
        (posixpath.relpath(info.path, base), info.type == pafs.FileType.Directory)
        for info in listing
    ]


def _read(location: Location, name: str) -> bytes | None:
    from pyarrow import fs as pafs

    fs = location.filesystem
    path = f"{location.path.rstrip('/')}/{name}"
    if fs.get_file_info(path).type != pafs.FileType.File:
        return None
    with fs.open_input_stream(path) as handle:
        data: bytes = handle.read()
    return data


def _kind(location: Location) -> str:
    """ "missing", "file" or "dir"."""
    from pyarrow import fs as pafs

    info = location.filesystem.get_file_info(location.path)
    if info.type == pafs.FileType.File:
        return "file"
    if info.type == pafs.FileType.Directory:
        return "dir"
    return "missing"


def _owned(name: str, is_dir: bool, token: str) -> bool:
    """Whether an entry of a claimed folder was written by the job holding ``token``."""
    top = name.split("/", 1)[0]
    if top in (CLAIM, SUCCESS_MARKER):
        return "/" not in name
    return token in top and (top.startswith(("part-", STAGING_PREFIX, STATS_PREFIX)))


# --- claiming ------------------------------------------------------------------------


def new_record(run_id: str) -> ClaimRecord:
    """The claim of this process for run ``run_id``."""
    return ClaimRecord(
        token=uuid.uuid4().hex[:16],
        run_id=run_id,
        host=socket.gethostname(),
        pid=os.getpid(),
        process_start=_process_start(os.getpid()),
    )


def _foreign(location: Location, entries: list[tuple[str, bool]]) -> DataError:
    shown = ", ".join(sorted(name for name, _ in entries)[:3])
    return DataError(
        f"output {location.uri!r} holds files this collection did not write ({shown}); "
        f"nothing was deleted. Choose another output"
    )


def claim(
    location: Location,
    record: ClaimRecord,
    overwrite: bool,
    job_active: Callable[[ClaimRecord], bool],
) -> Claim:
    """Claim ``location`` for this job, or raise ``DataError`` saying why not.

    A missing or empty folder is claimed by creating ``_CLAIM`` exclusively. An existing
    output of this collection is refused unless ``overwrite``; then its parts and
    manifest (only those) are removed first, once its writer is no longer active."""
    try:
        kind = _kind(location)
        if kind == "file":
            raise DataError(
                f"output {location.uri!r} is a file; the output is a folder of Parquet parts. "
                f"Nothing was deleted: choose another output"
            )
        entries = _entries(location) if kind == "dir" else []
        if entries:
            _replace(location, entries, overwrite, job_active)
        elif not location.is_s3:
            os.makedirs(location.path, exist_ok=True)
        if not create_exclusive(location, CLAIM, record.to_json()):
            raise DataError(
                f"output {location.uri!r} was claimed by another score job just now; "
                f"nothing was written. Choose another output"
            )
    except PermissionError as error:
        raise DataError(
            f"output {location.uri!r} cannot be written: permission denied ({error.filename})"
        ) from error
    except OSError as error:
        raise DataError(
            f"output {location.uri!r} cannot be written: {error.strerror or error}"
        ) from error
    return Claim(location, record)


def _replace(
    location: Location,
    entries: list[tuple[str, bool]],
    overwrite: bool,
    job_active: Callable[[ClaimRecord], bool],
) -> None:
    """Remove an earlier score job's output from ``location``, or refuse."""
    names = {name for name, _ in entries}
    if any(name.startswith(TAKEOVER_PREFIX) for name in names):
        raise DataError(
            f"output {location.uri!r} is being replaced by another score job; nothing was "
            f"written. Choose another output"
        )
    raw = _read(location, CLAIM) if CLAIM in names else None
    old = ClaimRecord.from_json(raw) if raw is not None else None
    if old is None:
        raise _foreign(location, entries)
    foreign = [(n, d) for n, d in entries if not _owned(n, d, old.token)]
    if foreign:
        raise _foreign(location, foreign)
    manifest_raw = _read(location, SUCCESS_MARKER)
    complete = manifest_raw is not None and old.token in manifest_raw.decode("utf-8", "replace")
    if not overwrite:
        state = "" if complete else ", incomplete,"
        raise DataError(
            f"output {location.uri!r} already exists{state} (written by run {old.run_id}); "
            f"nothing was written. Pass -P mode=overwrite to replace it, or choose another output"
        )
    if not complete and job_active(old):
        raise DataError(
            f"output {location.uri!r} is being written by run {old.run_id}, which is still "
            f"running; nothing was written. Choose another output"
        )
    takeover = f"{TAKEOVER_PREFIX}{old.token}"
    if not create_exclusive(location, takeover, b""):
        raise DataError(
            f"output {location.uri!r} is being replaced by another score job; nothing was "
            f"written. Choose another output"
        )
    fs = location.filesystem
    base = location.path.rstrip("/")
    # The manifest first, so the folder never looks complete while it is emptied.
    files = sorted(
        (name for name, is_dir in entries if not is_dir),
        key=lambda name: (name != SUCCESS_MARKER, name == CLAIM),
    )
    for name in files:
        fs.delete_file(f"{base}/{name}")
    if not location.is_s3:
        folders = [name for name, is_dir in entries if is_dir]
        for name in sorted(folders, key=lambda name: -name.count("/")):
            fs.delete_dir(f"{base}/{name}")
    fs.delete_file(f"{base}/{takeover}")


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


# --- filling and completing ------------------------------------------------------------


def parts(claim_: Claim) -> list[dict[str, Any]]:
    """The parts this job wrote under its folder, with their row counts."""
    import pyarrow.parquet as pq

    fs = claim_.location.filesystem
    found = []
    for name, is_dir in _entries(claim_.location):
        if is_dir or "/" in name or not name.startswith("part-") or claim_.token not in name:
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
    temporary = f"{claim_.location.path.rstrip('/')}/_SUCCESS.{claim_.token}.tmp"
    if claim_.location.is_s3:
        with fs.open_output_stream(path) as handle:
            handle.write(manifest.to_json())
        return
    with fs.open_output_stream(temporary) as handle:
        handle.write(manifest.to_json())
    fs.move(temporary, path)


def discard(claim_: Claim, keep_claim: bool = False) -> None:
    """Remove what this job wrote under its folder (parts, staging, its claim), and the
    folder itself when nothing else is left. Never raises: it runs on the way out."""
    try:
        fs = claim_.location.filesystem
        base = claim_.location.path.rstrip("/")
        entries = _entries(claim_.location) if _kind(claim_.location) == "dir" else []
        for name, is_dir in sorted(entries, key=lambda entry: -entry[0].count("/")):
            if not _owned(name, is_dir, claim_.token) or name == SUCCESS_MARKER:
                continue
            if name == CLAIM and keep_claim:
                continue
            if is_dir:
                if not claim_.location.is_s3:
                    fs.delete_dir(f"{base}/{name}")
            else:
                fs.delete_file(f"{base}/{name}")
        if not claim_.location.is_s3 and not keep_claim and not os.listdir(base):
            os.rmdir(base)
    except Exception:  # cleaning up after a failure must not hide it
        import logging

        logging.getLogger(__name__).warning(
            "could not remove every part of %s", claim_.location.uri, exc_info=True
        )


def read_manifest(location: Location) -> dict[str, Any] | None:
    """The manifest of a complete output, or None."""
    raw = _read(location, SUCCESS_MARKER)
    if raw is None:
        return None
    try:
        data: dict[str, Any] = json.loads(raw)
    except ValueError:
        return None
    return data


def verify(location: Location) -> dict[str, Any]:
    """Check a complete output against its manifest (every part present with its rows,
    nothing else); returns the manifest or raises ``DataError``."""
    manifest = read_manifest(location)
    if manifest is None or manifest.get("writer") != WRITER:
        raise DataError(f"output {location.uri!r} has no manifest of a score job")
    record = ClaimRecord.from_json(_read(location, CLAIM) or b"")
    if record is None or record.token != manifest.get("token"):
        raise DataError(f"output {location.uri!r}: its manifest and its claim disagree")
    claim_ = Claim(location, record)
    found = parts(claim_)
    if found != manifest.get("parts"):
        raise DataError(f"output {location.uri!r} does not hold the parts its manifest lists")
    return manifest


def read_output(uri: str) -> pa.Table:
    """A complete scoring output as one table: exactly the parts its manifest lists."""
    import pyarrow.dataset as ds

    from lifecycle.tables import locate

    location = locate(uri)
    manifest = verify(location)
    base = location.path.rstrip("/")
    paths = [f"{base}/{part['name']}" for part in manifest["parts"]]
    return ds.dataset(paths, filesystem=location.filesystem, format="parquet").to_table()


def check_apart(input_location: Location, outputs: Sequence[Location]) -> None:
    """Refuse an output that is the input, lies inside it, or contains it (after
    resolving ``file://``, ``.``/``..``, symlinks and trailing slashes)."""
    source = resolved(input_location)
    for output in outputs:
        target = resolved(output)
        if source[0] != target[0]:
            continue
        if target[1] == source[1]:
            relation = "is the input"
        elif _inside(target[1], source[1]):
            relation = "lies inside the input"
        elif _inside(source[1], target[1]):
            relation = "contains the input"
        else:
            continue
        raise DataError(
            f"output {output.uri!r} {relation} {input_location.uri!r}; nothing was read or "
            f"deleted. Choose an output outside the input"
        )


def resolved(location: Location) -> tuple[str, str]:
    """(store, path) with every spelling of one place made equal."""
    if location.is_s3:
        return "s3", posixpath.normpath("/" + location.path).lstrip("/")
    return "local", os.path.realpath(location.path)


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")

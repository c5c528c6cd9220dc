# Generated from lifecycle/io/outputs.py by python -m lifecycle.sync; edit the source.
"""Claiming a score job's output folders, so that no job deletes or mixes data it did
not write.

An output folder written by this collection holds, in the order they are written:

- ``_CLAIM``: created exclusively (``O_EXCL`` locally, ``If-None-Match: *`` on S3) before
  any row is read. It names the job (run id, host, process) and its token, 16 lowercase
  hex digits; of two jobs to one output, exactly one creates it and the other stops.
- ``part-<n>-<token>.parquet``: the rows, every part named with the claim's full token.
- ``_SUCCESS``: the manifest, last (``lifecycle.io.manifests``).

An entry belongs to a job only by its exact name carrying the job's full token
(``owned``); a claim whose record does not parse, or whose token is not well formed,
is no claim of this collection. ``mode=overwrite`` replaces a folder only when every
entry in it belongs to its claim (or to a takeover of it); anything else is refused by
name, and nothing in the folder is deleted. An incomplete folder (no manifest) is
replaced only once the job that claimed it is gone.

A takeover (a job replacing an earlier output) first creates ``_TAKEOVER-<old token>``
exclusively, holding its own record, so of two jobs replacing one output exactly one
goes on. It deletes the old output (the manifest first, the old claim last), creates its
own claim, and only then removes the marker: the folder is never unclaimed while a job
works in it. A marker has the claim's liveness test: one whose job is gone blocks
nothing, and the next job takes over from it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lifecycle.errors import DataError
from lifecycle.io.claims import (
    CLAIM,
    SHOWN,
    SUCCESS_MARKER,
    TAKEOVER,
    TAKEOVER_PREFIX,
    Claim,
    ClaimRecord,
    create_exclusive,
    entries,
    kind_of,
    owned,
    read_entry,
    remove_folder,
)
from lifecycle.io.manifests import parse_manifest

if TYPE_CHECKING:
    from collections.abc import Callable

    from lifecycle.io.locations import Location

logger = logging.getLogger(__name__)


@dataclass
class Survey:
    """What an existing output folder holds, read by ``survey``."""

    claim: ClaimRecord | None
    takeovers: dict[str, ClaimRecord]  # marker name -> the record of the job taking over
    manifest_token: str | None  # the token the manifest names, when there is one
    tokens: frozenset[str] = field(default_factory=frozenset)

    @property
    def head(self) -> str | None:
        """The token a new takeover replaces: the last job to take over, or the claim's."""
        replaced = {TAKEOVER.fullmatch(name).group("token") for name in self.takeovers}  # type: ignore[union-attr]
        takers = sorted({record.token for record in self.takeovers.values()} - replaced)
        if takers:
            return takers[0] if len(takers) == 1 else None
        return self.claim.token if self.claim is not None else None


def _foreign(location: Location, names: list[str]) -> DataError:
    shown = ", ".join(sorted(names)[:SHOWN])
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return DataError(
        f"output {location.uri!r} holds files this collection did not write ({shown}{more}); "
        f"nothing was deleted. Choose another output"
    )


def survey(location: Location, listing: list[tuple[str, bool]]) -> Survey:
    """Read an existing output folder's claim, takeover markers and manifest, and
    refuse (``DataError``, nothing deleted) a folder holding anything no well-formed
    claim of this collection owns: another tool's files, a damaged claim or marker, a
    manifest of another job."""
    names = {name for name, _ in listing}
    claim = None
    if CLAIM in names:
        claim = ClaimRecord.from_json(read_entry(location, CLAIM) or b"")
        if claim is None:
            raise _foreign(location, sorted(names))
    takeovers: dict[str, ClaimRecord] = {}
    for name in sorted(names):
        if TAKEOVER.fullmatch(name):
            record = ClaimRecord.from_json(read_entry(location, name) or b"")
            if record is None:
                raise _foreign(location, sorted(names))
            takeovers[name] = record
    tokens = {record.token for record in takeovers.values()}
    tokens |= {TAKEOVER.fullmatch(name).group("token") for name in takeovers}  # type: ignore[union-attr]
    if claim is not None:
        tokens.add(claim.token)
    manifest_token = None
    if SUCCESS_MARKER in names:
        manifest = parse_manifest(read_entry(location, SUCCESS_MARKER) or b"")
        if manifest is None or manifest.token not in tokens:
            raise _foreign(location, [SUCCESS_MARKER])
        manifest_token = manifest.token
    special = {CLAIM, SUCCESS_MARKER, *takeovers}
    foreign = [
        name for name, _ in listing if name not in special and not owned(name, frozenset(tokens))
    ]
    if foreign or (claim is None and not takeovers):
        raise _foreign(location, foreign or sorted(names))
    return Survey(claim, takeovers, manifest_token, frozenset(tokens))


# --- claiming ------------------------------------------------------------------------


def claim(
    location: Location,
    record: ClaimRecord,
    overwrite: bool,
    job_active: Callable[[ClaimRecord], bool],
) -> Claim:
    """Claim ``location`` for this job, or raise ``DataError`` saying why not.

    A missing or empty folder is claimed by creating ``_CLAIM`` exclusively. An existing
    output of this collection is refused unless ``overwrite``; then it is taken over
    (``_take_over``) once its writer is no longer active."""
    try:
        kind = kind_of(location)
        if kind == "file":
            raise DataError(
                f"output {location.uri!r} is a file; the output is a folder of Parquet parts. "
                f"Nothing was deleted: choose another output"
            )
        listing = entries(location) if kind == "dir" else []
        if listing:
            _take_over(location, listing, record, overwrite, job_active)
        else:
            if not location.is_s3:
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


def _busy(location: Location, run_id: str) -> DataError:
    return DataError(
        f"output {location.uri!r} is being replaced by another score job (run {run_id}); "
        f"nothing was written. Choose another output"
    )


def _take_over(
    location: Location,
    listing: list[tuple[str, bool]],
    record: ClaimRecord,
    overwrite: bool,
    job_active: Callable[[ClaimRecord], bool],
) -> None:
    """Replace an earlier score job's output in ``location`` with this job's claim, or
    refuse with the reason and nothing deleted."""
    found = survey(location, listing)
    for taker in found.takeovers.values():
        if job_active(taker):
            raise _busy(location, taker.run_id)
    old = found.claim
    complete = old is not None and found.manifest_token == old.token and not found.takeovers
    if not overwrite:
        state = "" if complete else ", incomplete,"
        writer = old.run_id if old is not None else "a score job that stopped"
        raise DataError(
            f"output {location.uri!r} already exists{state} (written by run {writer}); "
            f"nothing was written. Pass -P mode=overwrite to replace it, or choose another output"
        )
    if old is not None and not complete and not found.takeovers and job_active(old):
        raise DataError(
            f"output {location.uri!r} is being written by run {old.run_id}, which is still "
            f"running; nothing was written. Choose another output"
        )
    head = found.head
    if head is None:
        raise _foreign(location, sorted(found.takeovers))
    marker = f"{TAKEOVER_PREFIX}{head}"
    if not create_exclusive(location, marker, record.to_json()):
        raise _busy(location, "unknown")
    fs = location.filesystem
    base = location.path.rstrip("/")
    files = [name for name, is_dir in listing if not is_dir and name != CLAIM]
    markers = set(found.takeovers)
    # The manifest first, so the folder never looks complete while it is emptied; the
    # old claim last, and the markers only once this job's own claim exists.
    for name in sorted(files, key=lambda name: name != SUCCESS_MARKER):
        if name not in markers:
            fs.delete_file(f"{base}/{name}")
    for name, is_dir in listing:
        if is_dir and "/" not in name:
            remove_folder(location, name)
    if old is not None:
        fs.delete_file(f"{base}/{CLAIM}")
    if not create_exclusive(location, CLAIM, record.to_json()):
        fs.delete_file(f"{base}/{marker}")
        raise DataError(
            f"output {location.uri!r} was claimed by another score job just now; nothing was "
            f"written. Choose another output"
        )
    for name in sorted(markers | {marker}):
        fs.delete_file(f"{base}/{name}")


def discard(claim_: Claim, keep_claim: bool = False) -> None:
    """Remove what this job wrote under its folder (parts, staging, counts), then its
    claim, and the folder itself when nothing else is left. Only names carrying this
    job's token go, and the claim only while it is still this job's. Never raises: it
    runs on the way out."""
    try:
        fs = claim_.location.filesystem
        base = claim_.location.path.rstrip("/")
        listing = entries(claim_.location) if kind_of(claim_.location) == "dir" else []
        mine = frozenset({claim_.token})
        for name, is_dir in listing:
            if "/" in name or not owned(name, mine):
                continue  # a folder of this job goes whole, with what it holds
            if is_dir:
                remove_folder(claim_.location, name)
            else:
                fs.delete_file(f"{base}/{name}")
        if not keep_claim:
            current = ClaimRecord.from_json(read_entry(claim_.location, CLAIM) or b"")
            if current is not None and current.token == claim_.token:
                fs.delete_file(f"{base}/{CLAIM}")
            if not claim_.location.is_s3 and not os.listdir(base):
                os.rmdir(base)
    except Exception:  # cleaning up after a failure must not hide it
        logger.warning("could not remove every part of %s", claim_.location.uri, exc_info=True)

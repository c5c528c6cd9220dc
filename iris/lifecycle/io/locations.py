# Generated from lifecycle/io/locations.py by python -m lifecycle.sync; edit the source.
"""Where a batch input or output lives: a local path or an ``s3://bucket/prefix`` URI
(the S3 endpoint and keys come from the environment, as for MLflow:
``MLFLOW_S3_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``), the Arrow
filesystem that reaches it, and the check that an output lies apart from its input
however either is spelled (``file://``, ``.``/``..``, symlinks, trailing slashes)."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from lifecycle.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pyarrow import fs as pafs


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

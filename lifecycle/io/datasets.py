"""Pinned external files: a verified local copy of one, and its path.

Each project pins the files it reads (``PinnedFile``: URL, sha256, size) in its own
declaration (``<package>/params.py``); this module only fetches and verifies.

A dataset is found, in this order:
1. in the cache, ``datasets/cache/<dataset>/<file>`` (git-ignored);
2. in a mirror directory with the layout ``<mirror>/<dataset>/<file>``, named by the
   ``--mirror`` option or the ``DATASETS_MIRROR`` environment variable (the file is
   read in place, never copied or changed; relative paths start at the repository root);
3. by downloading the pinned URL into the cache.

Every file is checked against its pinned sha256 before it is used. With no network and
no mirror, the error names both ways to supply the file. Standard library only.
``python -m lifecycle.fetch`` fetches every project's pins ahead of time. ``sha256_of``
here is the collection's one file digest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MIRROR_ENV = "DATASETS_MIRROR"


def _repository_root() -> Path:
    """The nearest folder above this kit that holds ``datasets/``: the repository root,
    for the kit itself (``lifecycle/``) and for a project's copy (``iris/lifecycle/``)."""
    kit = Path(__file__).resolve().parents[1]
    for folder in kit.parents:
        if (folder / "datasets").is_dir():
            return folder
    return kit.parent


REPOSITORY_ROOT = _repository_root()
CACHE_DIR = REPOSITORY_ROOT / "datasets" / "cache"
DOWNLOAD_TIMEOUT_SECONDS = 60.0
_BLOCK = 1 << 16


@dataclass(frozen=True)
class PinnedFile:
    """One external file: the dataset folder it belongs to, its name, source and digest."""

    dataset: str
    filename: str
    url: str
    sha256: str
    size: int

    @property
    def relative_path(self) -> str:
        return f"{self.dataset}/{self.filename}"


class FetchError(RuntimeError):
    """The pinned file could not be found, downloaded or verified; the message says what to do."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(pinned: PinnedFile, target: Path, timeout: float) -> None:
    """Download ``pinned.url`` to ``target`` through a temporary file, verifying the sha256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    limit = 2 * pinned.size  # a bounded read: a wrong or endless response stops here
    received = 0
    try:
        with (
            urllib.request.urlopen(pinned.url, timeout=timeout) as response,
            partial.open("wb") as out,
        ):
            while block := response.read(_BLOCK):
                received += len(block)
                if received > limit:
                    raise FetchError(
                        f"{pinned.url} sent more than {limit} bytes; the pinned file has "
                        f"{pinned.size}"
                    )
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != pinned.sha256:
            raise FetchError(
                f"{pinned.url} returned {received} bytes with sha256 {digest.hexdigest()}, "
                f"expected {pinned.sha256}; the download was discarded"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def mirror_directory(mirror: str | os.PathLike[str] | None = None) -> Path | None:
    """The mirror to use: ``mirror``, else ``$DATASETS_MIRROR``; empty counts as unset.

    A relative path is resolved against the repository root, like the projects' data
    paths, because ``mlflow run`` starts each entry point inside its project folder.
    """
    chosen = mirror or os.environ.get(MIRROR_ENV) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    return path if path.is_absolute() else REPOSITORY_ROOT / path


def fetch_file(
    pinned: PinnedFile,
    mirror: str | os.PathLike[str] | None = None,
    cache_dir: Path | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_SECONDS,
) -> Path:
    """A verified local copy of ``pinned``: cached, mirrored or freshly downloaded.

    ``mirror`` falls back to the ``DATASETS_MIRROR`` environment variable; ``cache_dir``
    defaults to ``datasets/cache``.
    """
    mirror = mirror_directory(mirror)
    cached = (cache_dir or CACHE_DIR) / pinned.dataset / pinned.filename
    if cached.is_file():
        if sha256_of(cached) == pinned.sha256:
            return cached
        logger.warning("cached %s does not match its sha256; fetching it again", cached)
        cached.unlink()

    mirror_note = ""
    if mirror is not None:
        candidate = mirror / pinned.dataset / pinned.filename
        if candidate.is_file():
            digest = sha256_of(candidate)
            if digest != pinned.sha256:
                raise FetchError(
                    f"mirror file {candidate} has sha256 {digest}, but the pinned "
                    f"{pinned.relative_path} has {pinned.sha256}: the mirror holds a different "
                    f"release of the file; replace it with the copy from {pinned.url}"
                )
            logger.info("using %s from the mirror %s", pinned.relative_path, mirror)
            return candidate
        mirror_note = f"; the mirror {mirror} has no {pinned.relative_path}"

    try:
        logger.info("downloading %s", pinned.url)
        _download(pinned, cached, timeout)
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise FetchError(
            f"cannot get {pinned.relative_path}: downloading {pinned.url} failed ({error})"
            f"{mirror_note}. Supply the file one of two ways: (1) connect to the internet, "
            f"or (2) set {MIRROR_ENV} (or pass --datasets-mirror) to a directory that holds "
            f"{pinned.relative_path} with sha256 {pinned.sha256}"
        ) from error
    return cached

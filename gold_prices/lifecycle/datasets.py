# Generated from lifecycle/datasets.py by python -m lifecycle.sync; edit the source.
"""The pinned external datasets: fetches a verified local copy and returns its path.

A dataset is found, in this order:
1. in the cache, ``datasets/cache/<dataset>/<file>`` (git-ignored);
2. in a mirror directory with the layout ``<mirror>/<dataset>/<file>``, named by the
   ``--mirror`` option or the ``DATASETS_MIRROR`` environment variable (the file is
   read in place, never copied or changed; relative paths start at the repository root);
3. by downloading the pinned URL into the cache.

Every file is checked against its pinned sha256 before it is used. With no network and
no mirror, the error names both ways to supply the file. Standard library only, so
every project's environment can run it: ``python -m lifecycle.datasets gold_prices``.
Part of the step kit, so each project folder carries it and imports it by name.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MIRROR_ENV = "DATASETS_MIRROR"


def _repository_root() -> Path:
    """The nearest folder above this kit that holds ``datasets/``: the repository root,
    for the kit itself (``lifecycle/``) and for a project's copy (``iris/lifecycle/``)."""
    here = Path(__file__).resolve().parent
    for folder in here.parents:
        if (folder / "datasets").is_dir():
            return folder
    return here.parent


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


_DEMO_COMMIT = (
    "https://raw.githubusercontent.com/turelit/mlflow_demo/f3d97fea52ce354e51de248f38d51eab5db50953"
)

PINNED: dict[str, PinnedFile] = {
    "gold_prices": PinnedFile(
        dataset="gold_prices",
        filename="XAU_1d_data.csv",
        url=f"{_DEMO_COMMIT}/datasets/XAU_1d_data.csv",
        sha256="e9de048838c5c846b613df86ab10b91e081189d2af2a7210e324a727e02a8e33",
        size=289_359,
    ),
    "cities": PinnedFile(
        dataset="cities",
        filename="Worldwide_Travel_Cities_Dataset.csv",
        url=f"{_DEMO_COMMIT}/datasets/Worldwide_Travel_Cities_Dataset.csv",
        sha256="336042373c7d225ba7fb42f4062d5895c297346ae3ea35bc96453df54c5bfa18",
        size=478_871,
    ),
}


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


def fetch(
    dataset: str,
    mirror: str | os.PathLike[str] | None = None,
    cache_dir: Path | None = None,
    timeout: float = DOWNLOAD_TIMEOUT_SECONDS,
) -> Path:
    """A verified local copy of the pinned file of ``dataset`` (a key of ``PINNED``)."""
    if dataset not in PINNED:
        raise FetchError(f"unknown dataset {dataset!r}; pinned: {', '.join(sorted(PINNED))}")
    return fetch_file(PINNED[dataset], mirror, cache_dir, timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=sorted(PINNED), help="default: all")
    parser.add_argument("--mirror", help=f"mirror directory (default: ${MIRROR_ENV})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        for dataset in args.datasets:
            logger.info("%s: %s", dataset, fetch(dataset, args.mirror))
    except FetchError as error:
        logger.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m lifecycle.fetch [PROJECT ...] [--mirror DIR]``: fetch and verify the
pinned files of every project (or the ones named) ahead of time, into
``datasets/cache/``, from a mirror or by download (``lifecycle.io.datasets``).

Each project pins its files in its declaration (``<package>/params.py``,
``PROJECT.datasets``); this command finds them there, so a new project's pins are
fetched with no edit here. Not copied into the project folders: it reads them all.
"""

from __future__ import annotations

import argparse
import logging
import sys

from lifecycle import sync
from lifecycle.io.datasets import MIRROR_ENV, FetchError, PinnedFile, fetch_file

logger = logging.getLogger(__name__)


def pinned_files() -> dict[str, tuple[PinnedFile, ...]]:
    """Each project's pinned files, by project name."""
    return {folder.name: sync.declaration(folder).datasets for folder in sync.project_folders()}


def main(argv: list[str] | None = None) -> int:
    pins = pinned_files()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("projects", nargs="*", help=f"default: all ({', '.join(pins)})")
    parser.add_argument("--mirror", help=f"mirror directory (default: ${MIRROR_ENV})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    unknown = sorted(set(args.projects) - set(pins))
    if unknown:
        logger.error("unknown project(s) %s; projects: %s", ", ".join(unknown), ", ".join(pins))
        return 1
    try:
        for project in args.projects or pins:
            for pinned in pins[project]:
                logger.info("%s: %s", pinned.relative_path, fetch_file(pinned, args.mirror))
    except FetchError as error:
        logger.error("%s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

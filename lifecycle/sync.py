"""Copy the step kit (``lifecycle/``) into every project folder, or check the copies.

``python -m lifecycle.sync`` writes ``<project>/lifecycle/*.py``, each opening with a line
that says it is generated; ``python -m lifecycle.sync --check`` exits 1 naming every copy
that differs from its source. A project folder is any folder beside this one with an
``MLproject`` file. The copies make each folder self-contained: ``mlflow run`` from a git
URI, or a copy of the folder alone, imports its own ``lifecycle`` package.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

SOURCE = Path(__file__).resolve().parent
ROOT = SOURCE.parent
HEADER = "# Generated from lifecycle/{name} by python -m lifecycle.sync; edit the source.\n"
NOT_COPIED = {"sync.py"}


def project_folders(root: Path = ROOT) -> list[Path]:
    """Every project folder of the collection: a direct subfolder with an MLproject."""
    return sorted(path.parent for path in root.glob("*/MLproject"))


def expected_copies(root: Path = ROOT) -> dict[Path, str]:
    """Each copy's path and the text it must hold."""
    sources = sorted(path for path in SOURCE.glob("*.py") if path.name not in NOT_COPIED)
    return {
        folder / "lifecycle" / source.name: HEADER.format(name=source.name) + source.read_text()
        for folder in project_folders(root)
        for source in sources
    }


def stale_copies(root: Path = ROOT) -> list[Path]:
    """The copies that are missing, differ from their source, or have no source left."""
    expected = expected_copies(root)
    stale = [
        path for path, text in expected.items() if not path.is_file() or path.read_text() != text
    ]
    for folder in project_folders(root):
        stale += [path for path in (folder / "lifecycle").glob("*.py") if path not in expected]
    return sorted(stale)


def write_copies(root: Path = ROOT) -> list[Path]:
    """Bring every copy up to date; return the paths written or removed."""
    expected = expected_copies(root)
    changed = stale_copies(root)
    for path in changed:
        if path in expected:
            path.parent.mkdir(exist_ok=True)
            path.write_text(expected[path])
        else:
            path.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale copies")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.check:
        stale = stale_copies()
        for path in stale:
            logger.error("stale copy: %s (run python -m lifecycle.sync)", path.relative_to(ROOT))
        return 1 if stale else 0
    for path in write_copies():
        logger.info("updated %s", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reads what a step cache key is made of: the content hash of a project's code, the
hash of its environment file, and the sha256 of the data its training step reads.

The code hash covers the files as they are on disk, uncommitted edits included. In a git
work tree it hashes the tracked and untracked-but-not-ignored files (so ``mlflow.db``,
caches and other ignored output never count); elsewhere it walks the folder, skipping
hidden entries and Python byte code.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
from pathlib import Path

import yaml

from lifecycle.io.datasets import sha256_of

logger = logging.getLogger(__name__)

# Code outside a project folder that the projects run. There is none: each folder carries
# its copy of the step kit (dataset pins included), which its own hash covers.
SHARED_CODE: tuple[str, ...] = ()
DATA_PATH_PARAMETER = "data_path"
_GIT_TIMEOUT_SECONDS = 30


def _git_listed_files(folder: Path) -> list[Path] | None:
    """Tracked plus untracked, not ignored, files under ``folder``; None outside git."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            cwd=folder,
            capture_output=True,
            check=True,
            timeout=_GIT_TIMEOUT_SECONDS,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = sorted({name for name in listed.decode().split("\0") if name})
    return [folder / name for name in names]


def _walked_files(folder: Path) -> list[Path]:
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") or part == "__pycache__" for part in relative):
            continue
        if path.is_file() and path.suffix not in (".pyc", ".pyo"):
            files.append(path)
    return files


def folder_files(folder: Path) -> list[Path]:
    """The files whose content defines ``folder``'s code, in a stable order."""
    listed = _git_listed_files(folder)
    return _walked_files(folder) if listed is None else listed


def code_sha256(project_dir: Path, repository_root: Path) -> str:
    """One hash over the relative path and bytes of every file of the project, plus the
    shared code it runs. A deleted tracked file simply drops out (and changes the hash)."""
    digest = hashlib.sha256()
    sources = [
        (path, path.relative_to(project_dir).as_posix()) for path in folder_files(project_dir)
    ]
    sources += [(repository_root / name, f"<repository>/{name}") for name in SHARED_CODE]
    for path, name in sources:
        if not path.is_file():
            continue
        digest.update(f"{name}\0{sha256_of(path)}\n".encode())
    return digest.hexdigest()


def environment_file(project_dir: Path) -> Path | None:
    """The environment file the project's ``MLproject`` names (conda or python env)."""
    document = yaml.safe_load((project_dir / "MLproject").read_text()) or {}
    for key in ("conda_env", "python_env"):
        if document.get(key):
            return project_dir / str(document[key])
    return None


def env_sha256(project_dir: Path) -> str:
    path = environment_file(project_dir)
    if path is None or not path.is_file():
        return "none"
    return sha256_of(path)


def data_sha256(project: str, parameters: dict[str, str], repository_root: Path) -> dict[str, str]:
    """The sha256 of the data a step reads, keyed by where it comes from.

    A step that takes ``data_path`` reads that file (relative paths start at the
    repository root, as in the steps), or, when it is empty, the project's pinned dataset,
    whose bytes are verified against the pinned sha256 before any use.
    A missing file gets a marker, so the step runs and reports it.
    """
    if DATA_PATH_PARAMETER not in parameters:
        return {}
    data_path = parameters[DATA_PATH_PARAMETER]
    if data_path:
        path = Path(data_path)
        path = path if path.is_absolute() else repository_root / path
        if not path.is_file():
            return {data_path: "missing"}
        return {data_path: sha256_of(path)}
    from lifecycle.sync import declaration

    pins = declaration(repository_root / project).datasets
    return {f"pinned:{pinned.relative_path}": pinned.sha256 for pinned in pins}

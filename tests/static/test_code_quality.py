"""The static tier: lint, format and types, over every package the repository holds,
project packages included as discovery finds them (a folder with an ``MLproject``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lifecycle.sync import declaration, project_folders

ROOT = Path(__file__).resolve().parents[2]
SHARED = ("lifecycle", "orchestrator", "bench", "deploy")


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **env},
    )


def type_check_targets() -> tuple[list[str], list[str]]:
    """What mypy checks (the shared packages and each project's package) and where it
    finds the project packages (each project folder)."""
    folders = project_folders(ROOT)
    packages = [f"{folder.name}/{declaration(folder).package}" for folder in folders]
    return [*SHARED, *packages], [str(folder) for folder in folders]


def test_ruff_lint_passes() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_project_package_is_type_checked() -> None:
    targets, _search_path = type_check_targets()
    assert {"iris/iris_workflow", "gold_prices/gold_workflow", "cities/cities_workflow"} <= set(
        targets
    )
    assert len(targets) == len(SHARED) + len(project_folders(ROOT))


def test_types_check() -> None:
    """mypy as configured in pyproject.toml (strict on the step kit and the orchestrator,
    basic elsewhere), on every package that discovery finds."""
    targets, search_path = type_check_targets()
    result = run("mypy", *targets, MYPYPATH=os.pathsep.join(search_path))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout

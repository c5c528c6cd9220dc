"""The README's set-up commands, CI, the lint and the type checks stay in step."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = (
    "python3.11 -m venv .venv && . .venv/bin/activate && pip install -q -U pip && "
    "pip install -q --group dev"
)


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    one_liners = [block.strip() for block in bash_blocks(readme) if block.startswith(SETUP)]
    assert one_liners == [
        f"{SETUP} && mlflow run . --env-manager local",
        f"{SETUP} && python -m pytest",
    ]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert one_liners[1] in ci_lines


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_ruff_lint_passes() -> None:
    result = ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_types_check() -> None:
    """mypy as configured in pyproject.toml: strict on the step kit and the orchestrator,
    basic on the projects, bench and deploy."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout

"""The README's set-up commands and CI stay in step."""

from __future__ import annotations

import re
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

"""The README's set-up commands and CI stay in step."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETUP = (
    "python3.11 -m venv .venv && . .venv/bin/activate && pip install -q uv=={uv} && "
    "uv pip install -q --compile-bytecode --group dev"
)


def uv_pin() -> str:
    """The uv version the development group pins: the one the set-up installs first."""
    import tomllib

    group = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    (pin,) = [item for item in group if isinstance(item, str) and item.startswith("uv==")]
    return pin.removeprefix("uv==")


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = SETUP.format(uv=uv_pin())
    one_liners = [block.strip() for block in bash_blocks(readme) if block.startswith(setup)]
    assert one_liners == [
        f"{setup} && mlflow run . --env-manager local",
        f"{setup} && python -m pytest",
    ]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert one_liners[1] in ci_lines


def test_the_readme_is_a_front_door() -> None:
    """What the collection is, the two commands, the quickstart and the story; timings
    and long tables live in docs/."""
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250

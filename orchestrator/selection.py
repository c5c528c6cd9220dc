"""The selection an orchestration makes, checked where the declaration in
``orchestrator.params`` cannot: which projects (discovered as the folders with an
MLproject), the parallelism on this machine, the cache switches.
Pure: a bad value raises ``ParameterError`` naming it and what is allowed."""

from __future__ import annotations

from pathlib import Path

from lifecycle.errors import ParameterError as ParameterError  # raised by these checks

STEPS: tuple[str, ...] = ("train", "evaluate", "register")
ENV_MANAGERS: tuple[str, ...] = ("local", "uv", "virtualenv", "conda")
MODEL_ARTIFACT = "model"  # every project logs its model under this artifact path
# Words -P projects= and -P force= take for themselves; no project may be named so.
ALL = "all"
NONE = "none"
RESERVED_WORDS: tuple[str, ...] = (ALL, NONE)


def discover_projects(root: Path) -> list[str]:
    """Project folders directly under ``root``: those holding an ``MLproject`` file."""
    return sorted(
        child.name
        for child in root.iterdir()
        if child.is_dir() and not child.name.startswith(".") and (child / "MLproject").is_file()
    )


def select_projects(requested: str, available: list[str]) -> list[str]:
    """Parse ``requested`` ("all" or a comma-separated list) against ``available``.

    Order follows the request, duplicates are dropped, unknown names are an error.
    """
    names = [name.strip() for name in requested.split(",") if name.strip()]
    if not names:
        raise ParameterError(
            "projects", requested, f"name one or more of: {ALL}, {', '.join(available)}"
        )
    if names == [ALL]:
        return list(available)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ParameterError(
            "projects",
            requested,
            f"unknown project(s) {', '.join(unknown)}; available: {ALL}, {', '.join(available)}",
        )
    return list(dict.fromkeys(names))


def step_slots(max_parallel: int, cpu_count: int) -> int:
    """How many step processes may run at once: ``max_parallel`` (checked by its
    declaration in ``orchestrator.params``), or the core count for 0."""
    return max_parallel or max(1, cpu_count)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
FLAG_WORDS: tuple[str, ...] = (*_TRUE, *_FALSE)


def parse_flag(name: str, text: str) -> bool:
    """A yes/no parameter given as a string (MLproject has no boolean type)."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ParameterError(name, text, f"must be one of {', '.join(_TRUE + _FALSE)}")


def parse_force(text: str, selected: list[str]) -> frozenset[str]:
    """Which selected projects re-run every step regardless of the cache.

    ``""`` or ``none``: none; ``all``: every selected project; else a comma-separated list.
    """
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or names == [NONE]:
        return frozenset()
    if names == [ALL]:
        return frozenset(selected)
    unknown = [name for name in names if name not in selected]
    if unknown:
        raise ParameterError(
            "force",
            text,
            f"{', '.join(unknown)} not among the selected projects; use {NONE}, {ALL}, or some "
            f"of: {', '.join(selected)}",
        )
    return frozenset(names)

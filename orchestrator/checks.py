"""Validates every step's parameters with the owning project's own rules before the
orchestrator creates a run or starts a chain.

A project whose MLproject commands run ``python -m <package> ...`` is checked by
importing ``<package>.cli`` from its folder and running each step's click command up to
its checkpoint (``lifecycle.checks``): the same types, ranges and choices the step
itself enforces. A project with another kind of command is checked for types only.
"""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator import core

if TYPE_CHECKING:
    import click

_MODULE_COMMAND = re.compile(r"\bpython\s+-m\s+([A-Za-z_][A-Za-z0-9_]*)")
# Stands in for the model URI a chain hands from train to evaluate and register.
PENDING_MODEL_URI = "runs:/pending/model"


def project_cli(directory: Path) -> click.Group | None:
    """The click group a project's steps run, or None if its commands name no package
    (or its ``cli`` is not a click group)."""
    import yaml

    spec = yaml.safe_load((directory / "MLproject").read_text()) or {}
    commands = [str(entry.get("command", "")) for entry in spec.get("entry_points", {}).values()]
    packages = {match.group(1) for text in commands for match in _MODULE_COMMAND.finditer(text)}
    if len(packages) != 1:
        return None
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))
    import click

    module = importlib.import_module(f"{packages.pop()}.cli")
    group = getattr(module, "cli", None)
    return group if isinstance(group, click.Group) else None


def check_project(
    name: str,
    directory: Path,
    declared: dict[str, dict[str, core.ParamSpec]],
    overrides: dict[str, str],
) -> None:
    """Raise ``core.ParameterError`` naming the project, step and refused value."""
    from lifecycle.checks import InvalidParametersError, check_parameters

    group = project_cli(directory)
    if group is None:
        return
    for step in core.STEPS:
        if step not in declared:
            continue
        handed_over = {} if step == "train" else {"model_uri": PENDING_MODEL_URI}
        parameters = core.step_parameters(declared[step], overrides, handed_over, step)
        try:
            check_parameters(group, step, parameters)
        except InvalidParametersError as error:
            reason = str(error).replace("Invalid value for ", "")
            raise core.ParameterError("params", f"{name} {step}", reason) from error

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
    group = project_cli(directory)
    if group is None:
        return
    for step in core.STEPS:
        if step not in declared:
            continue
        handed_over = {} if step == "train" else {"model_uri": PENDING_MODEL_URI}
        _check_step(group, name, step, declared[step], overrides, handed_over)


def _check_step(
    group: click.Group,
    name: str,
    step: str,
    declared: dict[str, core.ParamSpec],
    overrides: dict[str, str],
    handed_over: dict[str, str],
) -> None:
    """Run ``step`` of the project's group up to its checkpoint with what it would get."""
    from lifecycle.step.checks import InvalidParametersError, check_parameters

    parameters = core.step_parameters(declared, overrides, handed_over, step)
    try:
        check_parameters(group, step, parameters)
    except InvalidParametersError as error:
        reason = str(error).replace("Invalid value for ", "")
        raise core.ParameterError("params", f"{name} {step}", reason) from error


# Stands in for the monitor step's input when the latest score output will be found.
PENDING_INPUT = "pending-input.csv"


def check_monitor(
    name: str,
    directory: Path,
    declared: dict[str, dict[str, core.ParamSpec]],
    overrides: dict[str, str],
) -> None:
    """Check the project's monitor step parameters with its own rules, as
    ``check_project`` checks the chain's."""
    group = project_cli(directory)
    if group is None or "monitor" not in declared:
        return
    handed_over = {"fail_on": "none"}
    if "input" not in overrides:
        handed_over["input"] = PENDING_INPUT
    _check_step(group, name, "monitor", declared["monitor"], overrides, handed_over)

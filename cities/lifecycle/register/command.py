# Generated from lifecycle/register/command.py by python -m lifecycle.sync; edit the source.
"""The ``register`` command every project adds to its group of steps: the declared
parameters, the project's ``register`` function and its one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.params import ModelParams
from lifecycle.register.params import RegisterParams
from lifecycle.register.step import RegisterResult, register_line
from lifecycle.step.checks import checkpoint
from lifecycle.step.command import declared_command
from lifecycle.step.console import result as result_line

if TYPE_CHECKING:
    from collections.abc import Callable

    import click

    from lifecycle.params import ProjectDeclaration


def add_register_command(
    group: click.Group, project: ProjectDeclaration, register: Callable[..., RegisterResult]
) -> click.Command:
    """Add the ``register`` command of ``project`` to its group of steps: the declared
    parameters, ``register(model_uri, model_name, gate)`` and its one line."""

    @declared_command(group, project.entry_point("register"))
    def command(model: ModelParams, registration: RegisterParams, gate: object) -> None:
        """Gate, register and promote; print the decision."""
        checkpoint()
        result = register(
            model.model_uri, registration.model_name, gate, registration.promotion_alpha
        )
        result_line(register_line(project.name, result))

    return command

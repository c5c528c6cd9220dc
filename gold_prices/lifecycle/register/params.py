# Generated from lifecycle/register/params.py by python -m lifecycle.sync; edit the source.
"""The register entry point's own parameters, the same in every project: the name a
model is registered under and the level of the paired test that decides the champion.
Pure."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.params import Declared, EntryPoint, ModelParams, param


@dataclass(frozen=True, kw_only=True)
class RegisterParams(Declared):
    """The name a register step registers under (the project's by default), and the
    level of the paired test a challenger must pass to replace the champion."""

    model_name: str = param(
        help="the registered model's name", nonempty=True, allowed="a registered model name"
    )
    promotion_alpha: float = param(
        0.05,
        help="the one-sided paired test's level a challenger must beat the champion at",
        low=0.0,
        high=1.0,
        low_open=True,
        allowed="1 turns the test off (strictly better wins)",
    )


def register_entry_point(
    project: str,
    gate: type[Declared],
    help: str = "Register the model if it passes the gate; move champion if it is better.",
) -> EntryPoint:
    """The ``register`` entry point every project has: the model, the registered name
    (the project's by default) and the project's gate parameters."""
    return EntryPoint(
        command="register",
        help=help,
        declared=(ModelParams, RegisterParams, gate),
        defaults=(("model_name", project),),
    )

"""What a step returns, and the register step every project runs the same way.

Each project's ``<pkg>/steps.py`` holds its entry points as functions that take
validated parameters and return one of these results; its click commands only parse
options, call them and print ``result_line``. Callers that are not a command line (the
benchmarks, a notebook) call the functions and read the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

from lifecycle.command import StepError
from lifecycle.models import ModelRef, ModelUriError, ensure_registrable

if TYPE_CHECKING:
    from collections.abc import Callable

    import click

    from lifecycle.params import ProjectDeclaration
    from lifecycle.registry import Registration


G = TypeVar("G", contravariant=True)
DEFAULT_PROMOTION_ALPHA = 0.05
Gate = TypeVar("Gate")


class ProjectTracking(Protocol[G]):
    """What the register step needs of a project's tracking module, whose gate takes
    parameters of type ``G``."""

    def resolve_model(self, model_uri: str) -> ModelRef: ...

    def register_if_good(
        self, ref: ModelRef, model_name: str, gate: G, promotion_alpha: float
    ) -> tuple[str, GateDecision, Registration]: ...


class GateDecision(Protocol):
    """A project's gate decision, as a register step reports it."""

    @property
    def passed(self) -> bool: ...

    def text(self) -> str: ...


@dataclass(frozen=True)
class TrainResult:
    """A training run: its id, the URI of the model it logged, its headline metrics."""

    run_id: str
    model_uri: str
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluateResult:
    """An evaluation run of a model, and the training run that model came from."""

    run_id: str
    training_run_id: str
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisterResult:
    """A register run: the gate's decision and what happened in the registry."""

    run_id: str
    decision: GateDecision
    registration: Registration

    @property
    def version(self) -> str | None:
        """The model version created, or None when the gate failed."""
        return self.registration.version

    @property
    def champion_version(self) -> str | None:
        """The champion after this step."""
        return self.registration.champion_after


def register(
    model_uri: str,
    model_name: str,
    gate: Gate,
    tracking: ProjectTracking[Gate],
    promotion_alpha: float = DEFAULT_PROMOTION_ALPHA,
) -> RegisterResult:
    """Register the model ``model_uri`` names under ``model_name`` if it passes the
    project's ``gate``, and settle the champion by the paired test at
    ``promotion_alpha``, through the project's ``tracking``. A URI that names no
    registrable model, or a registry that cannot be read, raises ``StepError`` before
    anything is registered."""
    from lifecycle.evidence import EvidenceError
    from lifecycle.registry import RegistryError

    if not model_name.strip():
        raise StepError("model_name='': must be a non-empty name")
    try:
        ensure_registrable(model_uri)
        ref = tracking.resolve_model(model_uri)
        run_id, decision, registration = tracking.register_if_good(
            ref, model_name, gate, promotion_alpha
        )
    except (ModelUriError, RegistryError, EvidenceError) as error:
        raise StepError(str(error)) from error
    return RegisterResult(run_id, decision, registration)


def register_line(project: str, result: RegisterResult) -> str:
    """The line a register step prints."""
    registration = result.registration
    promotion = ""
    if registration.decision is not None:
        p_value = "none" if registration.test is None else f"{registration.test.p_value:.4g}"
        promotion = f" decision={registration.decision} p_value={p_value}"
    return (
        f"{project} register: run_id={result.run_id} version={result.version or 'none'}"
        f"{promotion} {result.decision.text()}; {registration.clause}"
    )


def add_register_command(
    group: click.Group, project: ProjectDeclaration, register: Callable[..., RegisterResult]
) -> click.Command:
    """Add the ``register`` command of ``project`` to its group of steps: the declared
    parameters, ``register(model_uri, model_name, gate)`` and its one line."""
    import click

    from lifecycle.checks import checkpoint
    from lifecycle.command import declared_command
    from lifecycle.params import ModelParams, RegisterParams

    @declared_command(group, project.entry_point("register"))
    def command(model: ModelParams, registration: RegisterParams, gate: object) -> None:
        """Gate, register and promote; print the decision."""
        checkpoint()
        result = register(
            model.model_uri, registration.model_name, gate, registration.promotion_alpha
        )
        click.echo(register_line(project.name, result))

    return command

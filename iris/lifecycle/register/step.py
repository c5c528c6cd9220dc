# Generated from lifecycle/register/step.py by python -m lifecycle.sync; edit the source.
"""The register step every project runs the same way: the model checked, the gate
decided and recorded by the project's tracking module, the champion settled by the
paired test; its result and the line it prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from lifecycle.models import ModelRef, ModelUriError, ensure_registrable
from lifecycle.step.command import StepError

if TYPE_CHECKING:
    from lifecycle.register.contest import Registration


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
    from lifecycle.register.evidence import EvidenceError
    from lifecycle.register.registry import RegistryError

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

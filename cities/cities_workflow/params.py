"""The recommender's parameters (``TrainParams``) and its gate's (``GateParams``),
validated when constructed: a value outside its type or range raises
``ParameterError`` naming it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cities_workflow.schema import FEATURES, MAX_RANDOM_STATE, MIN_COMPONENTS
from lifecycle.errors import ParameterError, require_int


def _require_fraction(name: str, value: object, *, low_open: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(name, value, "must be a number")
    number = float(value)
    if not math.isfinite(number) or number > 1.0 or number < 0.0 or (low_open and number == 0):
        left = "(" if low_open else "["
        raise ParameterError(name, value, f"must be a number in {left}0, 1]")


@dataclass(frozen=True)
class TrainParams:
    """The recommender's recipe; constructing it validates every field."""

    n_components: int = 5
    diversity: float = 0.2
    random_state: int = 42

    def __post_init__(self) -> None:
        require_int("n_components", self.n_components, MIN_COMPONENTS, len(FEATURES))
        _require_fraction("diversity", self.diversity, low_open=False)
        if self.diversity == 1.0:
            raise ParameterError(
                "diversity", self.diversity, "must be below 1 (1 would ignore relevance)"
            )
        require_int("random_state", self.random_state, 0, MAX_RANDOM_STATE)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GateParams:
    """The registration gate: every constraint respected, and enough explained variance."""

    min_explained_variance: float = 0.7

    def __post_init__(self) -> None:
        _require_fraction("min_explained_variance", self.min_explained_variance, low_open=True)

# Generated from lifecycle/promotion.py by python -m lifecycle.sync; edit the source.
"""The champion rule, as pure functions: whether a model that passed its gate replaces
the champion, and one sentence that says why.

The rule fails closed:
- no champion: the new version becomes champion;
- the champion's value is unknown, or was measured on other data (another held-out
  split, other backtest days): no comparison is possible, so the champion is kept;
- otherwise the challenger must be *strictly* better. A tie keeps the champion, so a
  model that merely matches it (for example one trained on corrupted labels that happens
  to score the same) never takes the title.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    """A gate value and a canonical description of the data it was measured on."""

    value: float
    measured_on: str


@dataclass(frozen=True)
class ChampionState:
    """The champion as the registry holds it: its version and, when it can be
    established, its measurement; ``unknown`` says why it cannot."""

    version: str
    measurement: Measurement | None = None
    unknown: str = ""


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, and the clause that says why (for the gate line)."""

    promote: bool
    clause: str


def is_better(value: float, other: float, higher_is_better: bool) -> bool:
    """Strictly better; NaN and infinities never win."""
    if not (math.isfinite(value) and math.isfinite(other)):
        return False
    return value > other if higher_is_better else value < other


def format_value(value: float) -> str:
    """A gate value as text: four decimals (four significant digits when tiny or huge,
    never a 309-digit number), or ``infinite`` / ``undefined`` said as such."""
    if math.isnan(value):
        return "undefined (nan)"
    if math.isinf(value):
        return "infinite" if value > 0 else "-infinite"
    if value != 0 and not 1e-4 <= abs(value) < 1e6:
        return f"{value:.4g}"
    return f"{value:.4f}"


def verdict(
    challenger: Measurement,
    champion: ChampionState | None,
    metric: str,
    higher_is_better: bool,
) -> Verdict:
    """Apply the champion rule to a challenger that passed its gate."""
    if champion is None:
        return Verdict(True, "no champion yet, the new version becomes champion")
    name = f"champion version {champion.version}"
    known = champion.measurement
    if known is None or not math.isfinite(known.value):
        why = champion.unknown or f"its {metric} is not recorded"
        return Verdict(False, f"{name}'s {metric} cannot be established ({why}): champion kept")
    if known.measured_on != challenger.measured_on:
        return Verdict(
            False,
            f"{name} was measured on other data ({known.measured_on}; this model: "
            f"{challenger.measured_on}), so the two are not comparable: champion kept",
        )
    shown = f"{metric} {format_value(known.value)}"
    if is_better(challenger.value, known.value, higher_is_better):
        return Verdict(True, f"better than {name} ({shown}), the new version becomes champion")
    if challenger.value == known.value:
        return Verdict(False, f"ties {name} ({shown}); a tie keeps the champion")
    return Verdict(False, f"worse than {name} ({shown}), champion kept")


def contest_winner(
    holder: tuple[str, Measurement | None] | None,
    candidates: list[tuple[str, Measurement | None]],
    higher_is_better: bool | None,
) -> str | None:
    """Replay registrations in version order against the current champion.

    ``holder`` is the champion now; ``candidates`` are versions registered by register
    steps that may still be deciding. Each candidate takes the title only by the rule
    above (strictly better on the same data). ``higher_is_better=None`` means there is
    no value to compare: the newest passing version wins. The result depends only on
    the registry's state, so every racing step computes the same winner.
    """
    ordered = sorted(candidates, key=lambda item: int(item[0]))
    for version, measurement in ordered:
        if holder is None:
            holder = (version, measurement)
            continue
        if version == holder[0]:
            continue
        if higher_is_better is None:
            if int(version) > int(holder[0]):
                holder = (version, measurement)
            continue
        held = holder[1]
        if (
            measurement is not None
            and held is not None
            and measurement.measured_on == held.measured_on
            and is_better(measurement.value, held.value, higher_is_better)
        ):
            holder = (version, measurement)
    return None if holder is None else holder[0]

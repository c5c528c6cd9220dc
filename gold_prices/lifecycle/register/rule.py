# Generated from lifecycle/register/rule.py by python -m lifecycle.sync; edit the source.
"""The champion rule, as pure functions: whether a model that passed its gate replaces
the champion, and one sentence that says why.

The rule fails closed:
- no champion: the new version becomes champion;
- the champion's value is unknown: no comparison is possible, so the champion is kept;
- the champion was measured on other data (another table, another cut-off): both are
  measured on shared rows neither trained on (``lifecycle.register.shared``) and paired
  there; too few such rows, or none established, keeps the champion with the reason;
- otherwise the challenger must be better on the same rows by a one-sided paired test
  at ``promotion_alpha`` (the project's test on per-row losses: exact McNemar for iris,
  Diebold-Mariano with the HLN correction for gold, Wilcoxon signed-rank for cities). A
  challenger better on a row or two is noise and keeps out; no discordant row gives p = 1.
- ``promotion_alpha=1`` turns the test off: the challenger must be *strictly* better.
  A tie keeps the champion either way, so a model that merely matches it never takes
  the title.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pandas as pd

    from lifecycle.significance import PairedTest


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


FIRST, PROMOTED, KEPT = "first", "promoted", "kept"
DECISIONS: tuple[str, ...] = (FIRST, PROMOTED, KEPT)


@dataclass(frozen=True)
class ChampionRule:
    """How a challenger is compared with the champion: the compared value's name and
    direction, and the paired test on per-row losses that decides at ``alpha``
    (``promotion_alpha``; 1 turns the test off: strictly better on the value wins)."""

    metric: str
    higher_is_better: bool
    test_name: str
    test: Callable[[np.ndarray, np.ndarray], PairedTest] = field(compare=False)
    alpha: float = 0.05
    # The fewest shared rows a project's test needs beyond the exact bound below (a
    # comparison on fewer keeps the champion and says how many there were).
    min_rows: int = 1
    # The compared value as computed from a version's per-row evidence, where it can be
    # (so evidence that disagrees with the value the version recorded is refused).
    value_of: Callable[[pd.DataFrame], float] | None = field(default=None, compare=False)

    @property
    def minimum_rows(self) -> int:
        """The fewest paired rows on which the test could decide: even with every row
        in the challenger's favour, a one-sided sign-type test on n rows cannot go below
        p = 0.5^n, so n must reach log2(1 / alpha) (5 rows at 0.05); and at least the
        project's own ``min_rows``."""
        exact = math.ceil(math.log2(1 / self.alpha)) if self.tested else 1
        return max(self.min_rows, exact)

    @property
    def tested(self) -> bool:
        return self.alpha < 1.0

    @property
    def label(self) -> str:
        """The rule's name for ``lifecycle.promotion.test``."""
        return self.test_name if self.tested else "none (promotion_alpha=1: strictly better)"


@dataclass(frozen=True)
class Verdict:
    """Whether to promote, the clause that says why (for the gate line), the decision's
    name (``first``, ``promoted``, ``kept``) and the paired test when one ran."""

    promote: bool
    clause: str
    decision: str = KEPT
    test: PairedTest | None = None
    compared_on: str = ""  # the rows the test paired: their count and digest


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


def _standing(
    challenger: Measurement, known: Measurement, name: str, metric: str, rule: ChampionRule
) -> str:
    shown = f"{metric} {format_value(known.value)}"
    if is_better(challenger.value, known.value, rule.higher_is_better):
        return f"better than {name} ({shown})"
    if challenger.value == known.value:
        return f"ties {name} ({shown})"
    return f"worse than {name} ({shown})"


def _tested(
    rows: pd.DataFrame, standing: str, better: bool, rule: ChampionRule, compared_on: str
) -> Verdict:
    test = rule.test(rows["challenger_loss"].to_numpy(), rows["champion_loss"].to_numpy())
    significant = better and test.p_value < rule.alpha
    outcome = (
        f"< promotion_alpha {rule.alpha:g}: significantly better, the new version becomes champion"
        if significant
        else f">= promotion_alpha {rule.alpha:g}: not significantly better, champion kept"
        if test.p_value >= rule.alpha
        else f"< promotion_alpha {rule.alpha:g}, but it is not better: champion kept"
    )
    return Verdict(
        significant,
        f"{standing}; {test.describe()} {outcome}",
        PROMOTED if significant else KEPT,
        test,
        compared_on,
    )


def _on_shared_rows(name: str, rule: ChampionRule, shared: Callable[[], pd.DataFrame]) -> Verdict:
    """The challenger against the champion on the shared unseen rows ``shared`` gives."""
    from lifecycle.register.evidence import EvidenceError
    from lifecycle.register.shared import DESCRIPTION, require_rows

    try:
        rows = shared()
        require_rows(rows, rule.minimum_rows)
    except (EvidenceError, ValueError) as error:
        return Verdict(
            False,
            f"{name} was measured on other data, and the two cannot be compared on shared "
            f"unseen rows ({error}): champion kept",
        )
    compared_on = str(rows.attrs.get(DESCRIPTION, f"{len(rows)} shared unseen rows"))
    mine = float(rows["challenger_loss"].mean())
    theirs = float(rows["champion_loss"].mean())
    better = is_better(mine, theirs, higher_is_better=False)
    relation = "lower than" if better else "equal to" if mine == theirs else "higher than"
    standing = (
        f"{name} was measured on other data; on {compared_on}, this model's mean loss "
        f"{format_value(mine)} is {relation} its {format_value(theirs)}"
    )
    if not rule.tested:
        if better:
            return Verdict(
                True,
                f"{standing}, the new version becomes champion",
                PROMOTED,
                compared_on=compared_on,
            )
        return Verdict(False, f"{standing}, champion kept", compared_on=compared_on)
    try:
        return _tested(rows, standing, better, rule, compared_on)
    except ValueError as error:
        return Verdict(False, f"{standing}; the paired test cannot be run ({error}): champion kept")


def verdict(
    challenger: Measurement,
    champion: ChampionState | None,
    rule: ChampionRule,
    pair: Callable[[], pd.DataFrame] | None = None,
    shared: Callable[[], pd.DataFrame] | None = None,
) -> Verdict:
    """Apply the champion rule to a challenger that passed its gate.

    ``pair`` gives the two models' losses row by row (``lifecycle.register.evidence.paired``); it is
    called only when the rule's test decides, and an ``EvidenceError`` from it keeps the
    champion, with the reason. ``shared`` gives them on shared unseen rows
    (``lifecycle.register.shared``) for a champion measured on other data."""
    from lifecycle.register.evidence import EvidenceError
    from lifecycle.register.shared import ids_digest

    metric = rule.metric
    if champion is None:
        return Verdict(True, "no champion yet, the new version becomes champion", FIRST)
    name = f"champion version {champion.version}"
    known = champion.measurement
    if known is None or not math.isfinite(known.value):
        why = champion.unknown or f"its {metric} is not recorded"
        return Verdict(False, f"{name}'s {metric} cannot be established ({why}): champion kept")
    if known.measured_on != challenger.measured_on:
        if shared is not None:
            return _on_shared_rows(name, rule, shared)
        return Verdict(
            False,
            f"{name} was measured on other data ({known.measured_on}; this model: "
            f"{challenger.measured_on}), so the two are not comparable: champion kept",
        )
    standing = _standing(challenger, known, name, metric, rule)
    better = is_better(challenger.value, known.value, rule.higher_is_better)
    if not rule.tested:
        if better:
            return Verdict(True, f"{standing}, the new version becomes champion", PROMOTED)
        if challenger.value == known.value:
            return Verdict(False, f"{standing}; a tie keeps the champion")
        return Verdict(False, f"{standing}, champion kept")
    if pair is None:
        return Verdict(False, f"{standing}; no per-row evidence to test: champion kept")
    try:
        rows = pair()
        ids = ids_digest(rows["row_id"].astype(str))
        compared_on = f"{len(rows)} rows of the same data (ids digest {ids})"
        return _tested(rows, standing, better, rule, compared_on)
    except (EvidenceError, ValueError) as error:
        return Verdict(False, f"{standing}; the paired test cannot be run ({error}): champion kept")


def contest_winner(
    holder: str | None,
    candidates: list[str],
    beats: Callable[[str, str], bool],
) -> str | None:
    """Replay registrations in version order against the current champion.

    ``holder`` is the champion's version now; ``candidates`` are versions registered by
    register steps that may still be deciding. Each candidate takes the title only when
    ``beats(candidate, holder)`` (the rule above, with the candidate's own
    promotion_alpha). The result depends only on the registry's state, so every racing
    step computes the same winner.
    """
    for version in sorted(candidates, key=int):
        if holder is None or (version != holder and beats(version, holder)):
            holder = version
    return holder

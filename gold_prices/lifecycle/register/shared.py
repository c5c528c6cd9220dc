# Generated from lifecycle/register/shared.py by python -m lifecycle.sync; edit the source.
"""Comparing two models trained on different data, on rows neither of them saw.

A champion and a model retrained on newer data (a longer table, a later cut-off) were
measured on different held-out rows, so their recorded values cannot be compared. The
register step then measures both on one set of rows: the project proposes them (iris:
the held-out side of the row hash; gold: the days after both cut-offs; cities: the
evaluation profiles), and this module pairs the two models' losses on them after
leaving out every row either model trained on, judged from the row digests each
training run stores (``split/trained_rows.txt``), never from names or dates.

The result is a paired table (``row_id``, ``challenger_loss``, ``champion_loss``) with
a one-line description of the rows compared: their count and the digest of their ids,
recorded on the register run and in the version's description.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from lifecycle.register import evidence
from lifecycle.register.evidence import EvidenceError

if TYPE_CHECKING:
    from lifecycle.models import ModelRef

TRAINED_ROWS_ARTIFACT = "split/trained_rows.txt"
DESCRIPTION = "shared_rows"  # the paired table's attrs key for the rows' description
_SEPARATOR = "\x1f"


def _cell(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        number = float(value)
        return repr(number) if math.isfinite(number) else str(number)
    return str(value).strip()


def row_digest(values: Iterable[object]) -> str:
    """A row's digest: sha256 of its cells as canonical text (numbers as floats, text
    stripped), 16 hex digits; the same row in any table gets the same digest."""
    text = _SEPARATOR.join(_cell(value) for value in values)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def frame_digests(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Every row's digest over ``columns``, in the frame's order."""
    return [row_digest(row) for row in frame[list(columns)].itertuples(index=False, name=None)]


def ids_digest(ids: Iterable[str]) -> str:
    """The digest of a set of row ids (sorted), 12 hex digits."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:12]


def trained_rows_text(digests: Iterable[str]) -> str:
    """The artifact a training run logs: the digests of the rows its model was fitted
    on, one per line, sorted."""
    return "".join(f"{digest}\n" for digest in sorted(set(digests)))


def trained_rows(ref: ModelRef, who: str) -> frozenset[str]:
    """The digests of the rows the model's training run fitted it on. A run that does
    not record them (trained before they were kept) raises ``EvidenceError``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        uri = f"runs:/{ref.training_run_id}/{TRAINED_ROWS_ARTIFACT}"
        text = str(mlflow.artifacts.load_text(uri))
    except (MlflowException, OSError) as error:
        raise EvidenceError(
            f"{who}'s training run {ref.training_run_id} does not record the rows it trained on "
            f"({TRAINED_ROWS_ARTIFACT}), so rows it never saw cannot be established; retrain it"
        ) from error
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def base_id(row_id: str) -> str:
    """The row digest inside a row id (``<digest>`` or ``<digest>#<n>`` for the n-th
    copy of a row that appears more than once)."""
    return row_id.split("#", 1)[0]


def pair_on_shared(
    challenger: pd.DataFrame,
    champion: pd.DataFrame,
    trained_by_challenger: frozenset[str],
    trained_by_champion: frozenset[str],
) -> pd.DataFrame:
    """The two models' evidence on the same proposed rows, paired, with every row either
    model trained on left out and counted. ``attrs[DESCRIPTION]`` says which rows were
    compared: their count, the digest of their ids and what was left out and why."""
    paired = evidence.paired(challenger, champion)
    ids = paired["row_id"].astype(str)
    bases = ids.map(base_id)
    seen_by_champion = bases.isin(trained_by_champion)
    seen_by_challenger = bases.isin(trained_by_challenger)
    kept = paired[~(seen_by_champion | seen_by_challenger)].reset_index(drop=True)
    # The challenger's own columns (a day's dates, the truth) beside the two losses.
    extra = [c for c in challenger.columns if c not in ("loss", "prediction", *kept.columns)]
    if extra:
        described = challenger[["row_id", *extra]].astype({"row_id": str})
        kept = kept.merge(described, on="row_id", how="left")
    left_out = []
    if seen_by_champion.any():
        left_out.append(f"{int(seen_by_champion.sum())} the champion trained on")
    if seen_by_challenger.any():
        left_out.append(f"{int(seen_by_challenger.sum())} the challenger trained on")
    description = f"{len(kept)} shared unseen rows (ids digest {ids_digest(kept['row_id'])})"
    if left_out:
        description += f"; left out, of {len(paired)} proposed: {', '.join(left_out)}"
    kept.attrs[DESCRIPTION] = description
    return kept


def unique_ids(digests: Sequence[str]) -> list[str]:
    """Row ids from row digests: a digest seen before gets ``#<n>`` (its n-th copy),
    so repeated identical rows stay distinct and still map to their digest."""
    seen: dict[str, int] = {}
    ids = []
    for digest in digests:
        count = seen.get(digest, 0)
        ids.append(digest if count == 0 else f"{digest}#{count}")
        seen[digest] = count + 1
    return ids


def require_rows(paired: pd.DataFrame, minimum: int) -> None:
    """Refuse a comparison on fewer rows than the test needs to decide."""
    if len(paired) < minimum:
        raise EvidenceError(
            f"only {paired.attrs.get(DESCRIPTION, f'{len(paired)} shared unseen rows')}; the "
            f"paired test needs at least {minimum} to decide"
        )

# Generated from lifecycle/register/evidence.py by python -m lifecycle.sync; edit the source.
"""Per-row evidence: the table behind a gate value, one row per held-out row (iris),
backtest day (gold) or evaluation profile (cities), so that two models measured on the
same data can be paired row by row without refitting either.

Every table has ``row_id`` (what identifies the row within the data it was measured on),
``truth``, ``prediction`` and ``loss`` (lower is better: 1 for a wrong class, the
absolute error of a forecast, one minus a profile's relevance); a project may add
columns of its own. Pure: pandas in, pandas out.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd

ARTIFACT = "evidence/rows.csv"
PAIRED_ARTIFACT = "promotion/paired_rows.csv"
COLUMNS: tuple[str, ...] = ("row_id", "truth", "prediction", "loss")


class EvidenceError(ValueError):
    """Evidence that cannot be read or paired; the message says why."""


def check(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as evidence: the four columns, unique row ids, finite losses."""
    missing = [column for column in COLUMNS if column not in frame.columns]
    if missing:
        raise EvidenceError(f"the evidence table lacks column(s) {', '.join(missing)}")
    if frame.empty:
        raise EvidenceError("the evidence table has no rows")
    ids = frame["row_id"].astype(str)
    if ids.duplicated().any():
        raise EvidenceError(f"the evidence table repeats row id(s) {ids[ids.duplicated()][:3]}")
    loss = pd.to_numeric(frame["loss"], errors="coerce")
    if not np.isfinite(loss.to_numpy(dtype="float64")).all():
        raise EvidenceError("the evidence table holds a missing or infinite loss")
    return frame.assign(row_id=ids, loss=loss.astype("float64")).reset_index(drop=True)


def to_csv(frame: pd.DataFrame) -> str:
    """The evidence as the CSV text logged with a run."""
    return check(frame).to_csv(index=False)


def digest(text: str) -> str:
    """The sha256 of the evidence's CSV text, recorded with a version when it is
    registered and checked whenever the evidence is read back."""
    return hashlib.sha256(text.encode()).hexdigest()


def from_csv(text: str) -> pd.DataFrame:
    """Evidence read back from its CSV text (row ids stay text)."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype={"row_id": str})
    except (ValueError, pd.errors.ParserError) as error:
        raise EvidenceError(f"the evidence table cannot be read: {error}") from error
    return check(frame)


def paired(challenger: pd.DataFrame, champion: pd.DataFrame) -> pd.DataFrame:
    """The two models' losses side by side, row by row (``row_id``, ``challenger_loss``,
    ``champion_loss``), in the challenger's row order. Both must hold the same rows:
    otherwise they were not measured on the same data and nothing is paired."""
    mine, theirs = check(challenger), check(champion)
    if set(mine["row_id"]) != set(theirs["row_id"]):
        only_mine = len(set(mine["row_id"]) - set(theirs["row_id"]))
        only_theirs = len(set(theirs["row_id"]) - set(mine["row_id"]))
        raise EvidenceError(
            f"the two evidence tables hold different rows ({only_mine} only the "
            f"challenger's, {only_theirs} only the champion's)"
        )
    joined = mine[["row_id", "loss"]].merge(
        theirs[["row_id", "loss"]], on="row_id", suffixes=("_challenger", "_champion")
    )
    return joined.rename(
        columns={"loss_challenger": "challenger_loss", "loss_champion": "champion_loss"}
    )

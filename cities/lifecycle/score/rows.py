# Generated from lifecycle/score/rows.py by python -m lifecycle.sync; edit the source.
"""The score step's row checks, the same in both engines and in the served models: the
typed input fields a project declares (``Field``, ``Scorer``), the typing and checking of
input rows (one reason per bad row), and the order checks of series models.

A project describes its model with a ``Scorer``: the typed input fields, the prediction
columns it adds, its own per-row checks, and how a loaded model predicts a frame of
clean rows. Series models (gold) also name the column that orders rows and how many
earlier rows a prediction reads. How checked rows become output tables is
``lifecycle.score.assembly``.

Pure: frames in, frames and messages out; no files, no MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from lifecycle.errors import DataError
from lifecycle.io.tables import SOURCE_FILE, SOURCE_ROW

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

FIELD_TYPES = ("double", "long", "string")
REASON = "reason"
POSITION = "_position"
PROBLEM = "_problem"
ORDER = "_order"
METADATA = ("model_name", "model_version", "model_run_id", "scored_at")
# Names the outputs add: the metadata, and the rejected output's reason.
OUTPUT_ONLY = (*METADATA, REASON)
EXAMPLES = 5
# What ``pandas.api.types.infer_dtype`` calls a column holding only numbers (and nulls).
NUMBERS_ONLY = ("floating", "integer", "mixed-integer-float")


@dataclass(frozen=True)
class Field:
    """A typed input or prediction column."""

    name: str
    type: str  # double | long | string
    required: bool = True


class Scorer(Protocol):
    """What a project tells the score step about its model."""

    project: str
    inputs: tuple[Field, ...]
    predictions: tuple[Field, ...]
    # Series models: the column that orders rows, the earlier rows each prediction reads,
    # and the rows scored per chunk. ``None`` for models that score rows one by one.
    series_order: str | None
    history_rows: int
    chunk_rows: int

    def row_problems(self, model: Any, typed: pd.DataFrame) -> pd.Series:
        """Per row: None, or why the model cannot score it (the project's own checks,
        which may read the loaded model: the cities catalog's regions)."""
        ...

    def order_key(self, typed: pd.DataFrame) -> pd.Series:
        """Series models: each clean row's position in time, as int64."""
        ...

    def series_gap(self, keys: Any) -> str | None:
        """Series models: why these sorted, distinct order keys cannot be scored as one
        series (a gap the served model refuses), or None. Others: None."""
        ...

    def load(self, model_path: str) -> Any:
        """The model as ``predict`` takes it, loaded from a local copy."""
        ...

    def predict(self, model: Any, typed: pd.DataFrame) -> pd.DataFrame:
        """Predictions for clean rows: ``_position`` (the row's position in ``typed``)
        and the prediction columns; a row may give several output rows, or none."""
        ...


def check_columns(columns: Sequence[str], scorer: Scorer) -> None:
    """Refuse, before any row is read, an input without a required field or with a column
    whose name the output uses for something else."""
    present = set(columns)
    missing = [f.name for f in scorer.inputs if f.required and f.name not in present]
    if missing:
        expected = ", ".join(f.name for f in scorer.inputs if f.required)
        raise DataError(f"the input has no column(s) {', '.join(missing)}; expected {expected}")
    added = [f.name for f in scorer.predictions] + list(OUTPUT_ONLY)
    clashes = [name for name in added if name in present]
    if clashes:
        raise DataError(
            f"the input has column(s) {', '.join(clashes)}, which scoring adds to the output; "
            f"rename or drop them"
        )


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so messages show ``12.5``; a numpy
    array (a Parquet list cell) as the list it is, never as the number inside it."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    return value.item() if isinstance(value, np.generic) else value


def _shown(value: object) -> str:
    """A refused value as a message shows it: its repr, cut short, or its type name."""
    value = _plain(value)
    if isinstance(value, str | int | float | bool) or value is None:
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, tuple):
        return "of type list"
    return f"of type {type(value).__name__}"


def _as_numbers(values: pd.Series) -> pd.Series:
    """``values`` as float64: numbers and numeric text convert; booleans, dates, times,
    lists and anything else become NaN (not a number)."""
    import math
    import numbers as numeric

    import numpy as np
    import pandas as pd

    kind = values.dtype.kind
    if kind in "iuf":
        return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index)
    if kind in "bmM" or isinstance(values.dtype, pd.DatetimeTZDtype):
        return pd.Series(np.nan, index=values.index, dtype="float64")
    if isinstance(values.dtype, pd.StringDtype):  # CSV cells: text throughout
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if pd.api.types.infer_dtype(values, skipna=True) in NUMBERS_ONLY:
        # Python numbers and nulls only (a JSON request with a null, say): converted at
        # once, with the answers the cell-by-cell path gives.
        try:
            return pd.Series(values.to_numpy(dtype="float64", na_value=np.nan), index=values.index)
        except (OverflowError, TypeError, ValueError):
            pass  # an integer beyond float64: looked at cell by cell, below

    def number(value: object) -> float:
        if isinstance(value, bool | np.bool_):
            return np.nan
        if isinstance(value, numeric.Real):
            try:
                return float(value)
            except OverflowError:  # an integer beyond float64 is a number, not a finite one
                return math.inf if int(value) > 0 else -math.inf  # type: ignore[call-overload]
        if isinstance(value, str):
            try:
                parsed = float(value.strip())
            except ValueError:
                return np.nan
            # "nan" as text is not a measurement; "inf" stays, to be refused as infinite.
            return parsed if not np.isnan(parsed) else np.nan
        return np.nan

    return pd.Series(
        [number(v) for v in values.astype(object).tolist()], index=values.index, dtype="float64"
    )


def _no_reasons(index: pd.Index) -> pd.Series:
    """A reason per row, none yet."""
    import numpy as np
    import pandas as pd

    return pd.Series(np.full(len(index), None, dtype=object), index=index, dtype=object)


def _convert(values: pd.Series, spec: Field) -> tuple[pd.Series, pd.Series | None]:
    """``values`` as ``spec.type``, and the reason for each value that is not one (None
    when every value is). Vectorised: only a refused value is looked at on its own."""
    import numpy as np
    import pandas as pd

    missing = values.isna().to_numpy()
    reasons: dict[int, str] = {}
    converted: pd.Series
    if spec.type == "string":
        converted = values.astype("string")
        if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) != "string":
            text = values.map(lambda v: isinstance(v, str), na_action="ignore")
            not_text = ~missing & ~text.fillna(True).astype(bool).to_numpy()
            reasons.update(
                dict.fromkeys(np.flatnonzero(not_text).tolist(), f"{spec.name} is not text")
            )
    else:
        numbers = _as_numbers(values)
        floats = numbers.to_numpy(dtype="float64", na_value=np.nan)
        for row in np.flatnonzero(~missing & np.isnan(floats)).tolist():
            reasons[row] = f"{spec.name} {_shown(values.iloc[row])} is not a number"
        infinite = np.isinf(floats)
        for row in np.flatnonzero(infinite).tolist():
            reasons[row] = f"{spec.name} must be a finite number, got {floats[row]}"
        if infinite.any():
            numbers = numbers.where(~infinite)
        if spec.type == "long":
            fractional = numbers.notna().to_numpy() & (floats != np.floor(floats))
            for row in np.flatnonzero(fractional).tolist():
                reasons[row] = f"{spec.name} {floats[row]:g} is not a whole number"
            converted = numbers.where(~fractional).round().astype("Int64")
        else:
            converted = numbers
    if spec.required:
        for row in np.flatnonzero(missing).tolist():
            reasons.setdefault(row, f"{spec.name} is missing")
    if not reasons:
        return converted, None
    found = _no_reasons(values.index)
    rows = sorted(reasons)
    found.iloc[rows] = [reasons[row] for row in rows]
    return converted, found


def type_fields(frame: pd.DataFrame, scorer: Scorer) -> tuple[pd.DataFrame, pd.Series]:
    """The frame with the model's input fields typed (absent optional ones as nulls), and
    per row the first value that does not convert (None when all do)."""
    import pandas as pd

    typed = frame.copy()
    reasons: pd.Series | None = None
    for spec in scorer.inputs:
        if spec.name not in frame.columns:
            typed[spec.name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
        converted, problems = _convert(typed[spec.name], spec)
        typed[spec.name] = converted
        if problems is not None:
            reasons = problems if reasons is None else reasons.where(reasons.notna(), problems)
    return typed, _no_reasons(frame.index) if reasons is None else reasons


def checked_rows(frame: pd.DataFrame, scorer: Scorer, model: Any) -> tuple[pd.DataFrame, pd.Series]:
    """The rows typed (one pass over each field), and per row None or why it cannot be
    scored (a value of the wrong type, a missing value, or the project's own checks)."""
    typed, reasons = type_fields(frame, scorer)
    clean = reasons.isna().to_numpy()
    if clean.all():
        reasons = scorer.row_problems(model, typed).astype(object)
    elif clean.any():
        reasons[clean] = scorer.row_problems(model, typed[clean]).to_numpy()
    return typed, reasons.where(reasons.notna(), None)


def check_rows(frame: pd.DataFrame, scorer: Scorer, model: Any) -> pd.Series:
    """Per input row: None, or why it cannot be scored (``checked_rows``). Row-local: a
    row's answer depends on that row alone, so partitions can be checked apart."""
    return checked_rows(frame, scorer, model)[1]


def check_request(frame: pd.DataFrame, scorer: Scorer, model: Any) -> pd.DataFrame:
    """A served request through the score step's own row checks (``checked_rows``), so a
    served model refuses what ``score`` refuses, with the same reason: the first bad row
    is raised as ``DataError`` ("row 1: petal_width ... is not a number"), which the served
    model turns into HTTP 400. Returns the rows typed, checked and typed once."""
    if frame.empty:
        raise DataError("the request has no rows")
    missing = [f.name for f in scorer.inputs if f.required and f.name not in frame.columns]
    if missing:
        expected = ", ".join(f.name for f in scorer.inputs if f.required)
        raise DataError(f"missing field(s) {', '.join(missing)}; expected {expected}")
    typed, problems = checked_rows(frame.reset_index(drop=True), scorer, model)
    bad = [int(i) for i in problems.index[problems.notna()]]
    if bad:
        more = f" (and {len(bad) - 1} more row(s))" if len(bad) > 1 else ""
        raise DataError(f"row {bad[0]}: {problems[bad[0]]}{more}")
    return _with_order(typed, scorer)


def typed_rows(frame: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """Rows that passed ``check_rows``, typed, with a series model's order key."""
    return _with_order(type_fields(frame, scorer)[0], scorer)


def _with_order(typed: pd.DataFrame, scorer: Scorer) -> pd.DataFrame:
    """A series model's rows with their order key (``ORDER``); other rows as they are."""
    if scorer.series_order is None:
        return typed
    return typed.assign(**{ORDER: scorer.order_key(typed).astype("int64").to_numpy()})


def split_rows(raw: pd.DataFrame, scorer: Scorer, model: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One batch of input rows as (clean rows typed, with a series model's order key;
    rejected rows as read, with their reason), each field typed once."""
    typed, problems = checked_rows(raw, scorer, model)
    bad = problems.notna().to_numpy()
    rejected = raw[bad].copy()
    rejected[REASON] = problems[bad].astype(str).to_numpy()
    good = typed[~bad] if bad.any() else typed
    return _with_order(good, scorer), rejected


def describe_problems(rows: pd.DataFrame, limit: int = EXAMPLES) -> list[str]:
    """``file row N: reason`` lines for the first ``limit`` rejected rows."""
    return [
        f"{row[SOURCE_FILE]} row {int(row[SOURCE_ROW])}: {row[REASON]}"
        for _, row in rows.head(limit).iterrows()
    ]


def repeated_values(rows: pd.DataFrame, column: str) -> list[str]:
    """The values of ``column`` at the points in time that occur more than once."""
    repeated = rows[rows[ORDER].duplicated(keep=False)]
    return sorted({str(value) for value in repeated[column]})


def duplicate_order_problem(values: list[str], column: str) -> str:
    """A series model needs each point in time once; the message names the repeats."""
    shown = ", ".join(values[:EXAMPLES])
    return f"{column} repeats ({shown}): a series needs each {column} once; nothing was written"


def series_problem(scorer: Scorer, keys: Any, labels: pd.Series | None = None) -> str | None:
    """Why sorted order keys cannot form one series: a point in time given twice, or the
    gap the model refuses (``Scorer.series_gap``); None when they can."""
    import numpy as np

    keys = np.asarray(keys, dtype="int64")
    column = scorer.series_order or "order"
    if len(keys) > 1:
        repeated = np.flatnonzero(np.diff(keys) == 0)
        if len(repeated):
            shown = (
                sorted({str(labels.iloc[int(i)]) for i in repeated[:EXAMPLES]})
                if (labels is not None)
                else [str(int(keys[i])) for i in repeated[:EXAMPLES]]
            )
            return duplicate_order_problem(shown, column)
    return scorer.series_gap(keys)

# Generated from lifecycle/score/assembly.py by python -m lifecycle.sync; edit the source.
"""How a score job's checked rows become its output tables, the same in both engines:
series models' chunks (each with the earlier rows it reads), predictions beside the rows
they came from, the metadata every output row carries, and the Arrow schemas of the
scored and rejected outputs. Pure: frames and schemas in, frames and tables out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lifecycle.io.tables import SOURCE_FILE, SOURCE_ROW
from lifecycle.score.rows import METADATA, ORDER, POSITION, REASON

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from lifecycle.models import ResolvedModel
    from lifecycle.score.rows import Scorer


def chunk_bounds(rows: int, chunk_rows: int, history_rows: int) -> list[tuple[int, int, int]]:
    """(read_from, first, stop) per chunk: rows ``first..stop-1`` are predicted from a
    window that starts ``history_rows`` earlier (or at 0)."""
    return [
        (max(0, first - history_rows), first, min(first + chunk_rows, rows))
        for first in range(0, rows, chunk_rows)
    ]


def predict_rows(scorer: Scorer, model: Any, typed: pd.DataFrame) -> pd.DataFrame:
    """Predictions for clean rows (series rows sorted by their order), chunked for series
    models exactly as the Spark engine chunks them."""
    import pandas as pd

    if scorer.series_order is None:
        return scorer.predict(model, typed.reset_index(drop=True))
    parts = []
    for read_from, first, stop in chunk_bounds(len(typed), scorer.chunk_rows, scorer.history_rows):
        part = predict_window(scorer, model, typed.iloc[read_from:stop], first - read_from)
        part[POSITION] += read_from
        parts.append(part)
    if not parts:
        return scorer.predict(model, typed.iloc[0:0])
    return pd.concat(parts, ignore_index=True)


def predict_window(scorer: Scorer, model: Any, window: pd.DataFrame, skip: int) -> pd.DataFrame:
    """A series model's predictions for a window, without its first ``skip`` history rows."""
    part = scorer.predict(model, window.reset_index(drop=True))
    return part[part[POSITION] >= skip].reset_index(drop=True)


def assemble(
    records: pd.DataFrame,
    predictions: pd.DataFrame,
    scorer: Scorer,
    metadata: dict[str, Any],
) -> pd.DataFrame:
    """Output rows: each prediction beside the input row it came from, then the metadata."""
    import pandas as pd

    positions = predictions[POSITION].to_numpy()
    internal = [SOURCE_FILE, SOURCE_ROW, ORDER]
    left = records.drop(columns=[c for c in internal if c in records.columns])
    left = left.iloc[positions].reset_index(drop=True)
    right = predictions[[f.name for f in scorer.predictions]].reset_index(drop=True)
    out = pd.concat([left, right], axis=1)
    for name in METADATA:
        out[name] = metadata[name]
    return out


def metadata_of(model: ResolvedModel, scored_at: pd.Timestamp) -> dict[str, Any]:
    """The metadata columns every output row carries."""
    return {
        "model_name": model.name,
        "model_version": model.version,
        "model_run_id": model.run_id,
        "scored_at": scored_at,
    }


def output_schema(records: pa.Schema, scorer: Scorer) -> pa.Schema:
    """The scored output's Arrow schema: the typed input columns, the predictions and the
    metadata."""
    import pyarrow as pa

    types = {"double": pa.float64(), "long": pa.int64(), "string": pa.string()}
    fields = [f for f in records if f.name not in (SOURCE_FILE, SOURCE_ROW)]
    by_name = {spec.name: spec for spec in scorer.inputs}
    typed_fields = [
        pa.field(f.name, types[by_name[f.name].type]) if f.name in by_name else f for f in fields
    ]
    return pa.schema(
        [
            *typed_fields,
            *(pa.field(f.name, types[f.type]) for f in scorer.predictions),
            pa.field("model_name", pa.string()),
            pa.field("model_version", pa.int64()),
            pa.field("model_run_id", pa.string()),
            pa.field("scored_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def typed_schema(raw: pa.Schema, scorer: Scorer) -> pa.Schema:
    """The schema of checked rows: the raw input's columns with the fields typed, every
    field present."""
    import pyarrow as pa

    types = {"double": pa.float64(), "long": pa.int64(), "string": pa.string()}
    by_name = {spec.name: spec for spec in scorer.inputs}
    fields = [
        pa.field(f.name, types[by_name[f.name].type]) if f.name in by_name else f for f in raw
    ]
    present = {f.name for f in raw}
    extra = [pa.field(s.name, types[s.type]) for s in scorer.inputs if s.name not in present]
    return pa.schema(fields + extra)


def rejected_schema(raw: pa.Schema) -> pa.Schema:
    """The rejected output's schema: the input as read, its origin, and the reason."""
    import pyarrow as pa

    return raw.append(pa.field(REASON, pa.string()))


def to_arrow(frame: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A frame as an Arrow table of exactly ``schema``."""
    import pandas as pd
    import pyarrow as pa

    arrays = []
    for spec in schema:
        column = frame[spec.name]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            utc = column.dt.tz_convert(None).to_numpy()
            arrays.append(pa.array(utc, pa.timestamp(spec.type.unit)).cast(spec.type))
        else:
            arrays.append(pa.Array.from_pandas(column, type=spec.type))
    return pa.Table.from_arrays(arrays, schema=schema)

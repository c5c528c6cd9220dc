"""How the score step runs the city recommender over a table of traveller profiles:
the typed profile fields, the columns of each recommended city, the checks a profile
must pass (the served model's own, against the model's catalog), and one output row
per recommended city, ranked, beside the profile it answers."""

from __future__ import annotations

from typing import Any

import pandas as pd

from cities_workflow.preferences import PreferenceError, parse_preference
from cities_workflow.ranking import recommend_all
from cities_workflow.schema import ACTIVITIES
from lifecycle.score.rows import Field

PREDICTIONS = (
    Field("rank", "long"),
    Field("city", "string"),
    Field("country", "string"),
    Field("region", "string"),
    Field("city_budget_level", "string"),
    Field("score", "double"),
    Field("temperature_c", "double"),
    Field("reason", "string"),
)
INPUTS = (
    Field("month", "long"),
    Field("preferred_temp", "double"),
    Field("budget_level", "string"),
    Field("regions", "string", required=False),
    *(Field(activity, "double") for activity in ACTIVITIES),
    Field("trip_days", "long"),
    Field("top_k", "long", required=False),
)


def profile_records(typed: pd.DataFrame) -> list[dict[str, Any]]:
    """The profile fields of each row as plain Python values (None where absent)."""
    names = [spec.name for spec in INPUTS]
    fields = typed[names].astype(object)
    records = fields.where(typed[names].notna(), None).to_dict(orient="records")
    return [{str(key): value for key, value in record.items()} for record in records]


class CitiesScorer:
    """The recommender as the score step sees it: profiles answered one by one."""

    project = "cities"
    inputs: tuple[Field, ...] = INPUTS
    predictions: tuple[Field, ...] = PREDICTIONS
    series_order: str | None = None
    history_rows = 0
    chunk_rows = 0

    def row_problems(self, model: Any, typed: pd.DataFrame) -> pd.Series:
        known_regions = set(model.catalog["region"])
        reasons: list[str | None] = []
        for record in profile_records(typed):
            try:
                parse_preference(record, known_regions)
                reasons.append(None)
            except PreferenceError as error:
                reasons.append(str(error))
        return pd.Series(reasons, index=typed.index, dtype=object)

    def order_key(self, typed: pd.DataFrame) -> pd.Series:
        raise NotImplementedError("profiles are not a series")

    def series_gap(self, keys: Any) -> str | None:
        return None

    def load(self, model_path: str) -> Any:
        import mlflow.pyfunc

        return mlflow.pyfunc.load_model(model_path).unwrap_python_model()

    def predict(self, model: Any, typed: pd.DataFrame) -> pd.DataFrame:
        requests = pd.DataFrame(profile_records(typed), columns=[spec.name for spec in INPUTS])
        ranked = recommend_all(model.catalog, requests, model.diversity)
        return ranked.rename(columns={"profile": "_position", "budget_level": "city_budget_level"})

"""The served city recommender: an MLflow pyfunc model that takes rows of traveller
preferences and returns ranked cities.

Input, one row per traveller: ``month`` (1-12), ``preferred_temp`` (°C),
``budget_level`` (Budget, Mid-range or Luxury: the most the traveller will spend),
``regions`` (optional, comma-separated, empty for any), a weight from 0 to 5 for each
of the nine activities, ``trip_days`` and ``top_k`` (optional, default 5). Output, one
row per recommended city: ``profile`` (the input row), ``rank``, ``city``, ``country``,
``region``, ``budget_level``, ``score``, ``temperature_c`` and a short ``reason``. Bad
input raises an ``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which the scoring
server returns as HTTP 400 with the message.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel
from mlflow.types import ColSpec, Schema
from mlflow.types.schema import AnyType

from cities_workflow.preferences import PreferenceError
from cities_workflow.ranking import recommend_all
from cities_workflow.schema import ACTIVITIES
from cities_workflow.scoring import CitiesScorer
from lifecycle.errors import DataError
from lifecycle.score.rows import check_request

CATALOG_ARTIFACT = "catalog"
# The file MLflow runs to build the served model ("models from code": nothing is pickled).
MODEL_CODE = Path(__file__).resolve().parent / "served_model.py"


def signature() -> ModelSignature:
    """The served model's request and answer columns."""
    inputs = Schema(
        [
            # Untyped: values pass through as sent (MLflow's scoring server would cast
            # month=12.9 to 12 for a "long" column, true to 1.0 for a "double"), and the
            # score step's own row checks refuse them naming the row and the field.
            ColSpec(AnyType(), "month"),
            ColSpec(AnyType(), "preferred_temp"),
            ColSpec(AnyType(), "budget_level"),
            ColSpec(AnyType(), "regions", required=False),
            *(ColSpec(AnyType(), activity) for activity in ACTIVITIES),
            ColSpec(AnyType(), "trip_days"),
            ColSpec(AnyType(), "top_k", required=False),
        ]
    )
    outputs = Schema(
        [
            ColSpec("long", "profile"),
            ColSpec("long", "rank"),
            ColSpec("string", "city"),
            ColSpec("string", "country"),
            ColSpec("string", "region"),
            ColSpec("string", "budget_level"),
            ColSpec("double", "score"),
            ColSpec("double", "temperature_c"),
            ColSpec("string", "reason"),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def read_catalog(path: str | Path) -> pd.DataFrame:
    """The catalog CSV the model was logged with."""
    return pd.read_csv(path, keep_default_na=False)


class CityRecommender(PythonModel):
    """The served recommender. MLflow builds it from code (``served_model.py``) and hands
    it the city catalog (a CSV) and the diversity setting through the model's context."""

    def __init__(self, catalog: pd.DataFrame | None = None, diversity: float = 0.0) -> None:
        self.catalog = catalog
        self.diversity = diversity

    def load_context(self, context) -> None:
        from lifecycle.serve import request_guard

        request_guard.install()
        self.catalog = read_catalog(context.artifacts[CATALOG_ARTIFACT])
        self.diversity = float((context.model_config or {})["diversity"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        if self.catalog is None:
            raise MlflowException("the recommender was not loaded with its catalog")
        try:
            # The score step's own row checks first: the same refusals, the same reasons.
            check_request(pd.DataFrame(model_input), CitiesScorer(), self)
            return recommend_all(self.catalog, model_input, self.diversity)
        except (PreferenceError, DataError) as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from error

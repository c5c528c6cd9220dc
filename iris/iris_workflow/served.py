"""The served iris classifier: MLflow's scikit-learn pyfunc behind a request guard.

MLflow imports this module as the model's pyfunc loader (see ``flavor``). Every request
is checked by ``core.validate_request``; a refused one raises an ``MlflowException``
with ``INVALID_PARAMETER_VALUE``, which the scoring server returns as HTTP 400 with the
field and the row, never a made-up class and never a traceback.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from iris_workflow import core


class GuardedClassifier:
    """Checks a request, then lets MLflow's scikit-learn wrapper predict."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get_raw_model(self) -> Any:
        return self.inner.get_raw_model()

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        try:
            clean = core.validate_request(frame)
        except core.DataError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None
        return self.inner.predict(clean, params=params)


def _load_pyfunc(path: str) -> GuardedClassifier:
    """MLflow's pyfunc loader hook."""
    import mlflow.sklearn

    return GuardedClassifier(mlflow.sklearn._load_pyfunc(path))

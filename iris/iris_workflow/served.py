"""The served iris classifier: MLflow's scikit-learn pyfunc behind a request guard.

MLflow imports this module as the model's pyfunc loader (see ``flavor``). Every request
is checked by the score step's own row checks (``lifecycle.score.rows.check_request`` with
``IrisScorer``), so serving and ``score`` refuse the same values with the same reason; a
refused one raises an ``MlflowException`` with ``INVALID_PARAMETER_VALUE``, which the
scoring server returns as HTTP 400 with the row and the field, never a made-up class and
never a traceback. The signature declares the fields without a type, so MLflow hands the
values over as sent (a JSON ``true`` stays a boolean) and these checks decide.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from iris_workflow import core
from iris_workflow.scoring import IrisScorer
from lifecycle.errors import DataError
from lifecycle.score.rows import check_request


class GuardedClassifier:
    """Checks a request, then lets MLflow's scikit-learn wrapper predict."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get_raw_model(self) -> Any:
        return self.inner.get_raw_model()

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        try:
            clean = check_request(frame, IrisScorer(), None)
        except DataError as error:
            raise MlflowException(str(error), error_code=INVALID_PARAMETER_VALUE) from None
        return self.inner.predict(clean[list(core.FEATURES)], params=params)


def _load_pyfunc(path: str) -> GuardedClassifier:
    """MLflow's pyfunc loader hook; in a scoring server it also installs the request
    guard (``lifecycle.serve.request_guard``)."""
    import mlflow.sklearn

    from lifecycle.serve import request_guard

    request_guard.install()
    return GuardedClassifier(mlflow.sklearn._load_pyfunc(path))

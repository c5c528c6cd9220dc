"""A small model for the deployment's tests, logged from code (MLflow's models from
code): it answers ``x * factor``. Its ``model_config`` can make it misbehave as a real
version might:

- ``offset_variable``: adds the number in that environment variable when it is set, so
  a version whose golden set was recorded with it set gives other answers when served
  without it (a serving environment that differs from registration's);
- ``fail_flag``: once a file exists at that path, every request gets a 500, as a model
  whose backing service went away would.
"""

from __future__ import annotations

import os

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.pyfunc import PythonModel


class Toy(PythonModel):
    def load_context(self, context):
        self.config = dict(context.model_config or {})

    def predict(self, context, model_input: pd.DataFrame, params=None):
        flag = self.config.get("fail_flag")
        if flag and os.path.exists(flag):
            raise MlflowException(
                "the model's backing service is gone", error_code="INTERNAL_ERROR"
            )
        offset = float(os.environ.get(self.config.get("offset_variable") or "-", "0") or 0)
        # An array, not a list: inferring the signature of a list makes MLflow import
        # pyspark.sql.connect, which exits a pytest-xdist worker (it takes it for doctests).
        factor = float(self.config.get("factor", 1))
        return model_input["x"].astype(float).to_numpy() * factor + offset


mlflow.models.set_model(Toy())

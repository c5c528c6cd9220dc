"""Register versions of the toy model (``toy_model.py``) with their golden set, as the
collection's register step records it (``lifecycle.golden``), for the deployment's tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from lifecycle import contract

TOY = Path(__file__).with_name("toy_model.py")
REQUEST = {"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.5]]}}


def register_toy(client: Any, name: str, **config: Any) -> str:
    """Log and register a toy version with ``config``; record its golden set as the
    register step does, with the environment variables in ``config["golden_env"]`` set
    while its answers are recorded. Returns the version."""
    import mlflow

    from lifecycle.register.record import record_golden_set

    golden_env = config.pop("golden_env", {})
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(TOY),
            model_config=config,
            input_example=pd.DataFrame({"x": [1.0, 2.5]}),
        )
        saved = {key: os.environ.get(key) for key in golden_env}
        os.environ.update(golden_env)
        try:
            golden_uri = record_golden_set(run.info.run_id, info.model_uri)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    version = mlflow.register_model(info.model_uri, name, tags={contract.GOLDEN: golden_uri})
    return str(version.version)

"""How the iris model is saved: MLflow's scikit-learn flavour (skops, the signature, the
pinned requirements), with the pyfunc loader pointed at ``iris_workflow.served``, so a
served or pyfunc-loaded model checks every request before the classifier sees it, while
``mlflow.sklearn.load_model`` still returns the plain classifier.

``mlflow.models.Model.log(flavor=iris_workflow.flavor, ...)`` calls ``save_model`` here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

SERVED_LOADER = "iris_workflow.served"


def save_model(sk_model: object, path: str, mlflow_model: Any = None, **kwargs: Any) -> None:
    """Save as ``mlflow.sklearn.save_model`` does, then route pyfunc loading through the
    request guard (shipped in the model's code paths)."""
    import mlflow.sklearn
    from mlflow.models import Model

    if mlflow_model is None:
        mlflow_model = Model()
    mlflow.sklearn.save_model(sk_model, path, mlflow_model=mlflow_model, **kwargs)
    mlflow_model.flavors["python_function"]["loader_module"] = SERVED_LOADER
    mlflow_model.save(str(Path(path) / "MLmodel"))

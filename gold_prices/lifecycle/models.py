# Generated from lifecycle/models.py by python -m lifecycle.sync; edit the source.
"""Naming and reading logged models, the same way in every project: a model URI checked
and tied to its training run, the registrable form of a URI, pinned requirements for a
served model, and two logging helpers. MLflow is imported inside each function, so a
step that fails on its options never pays for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from mlflow.data.pandas_dataset import PandasDataset

# This folder: the step kit a served model imports (its errors), shipped beside it.
KIT_DIR = Path(__file__).resolve().parent


class ModelUriError(ValueError):
    """A model URI that does not name a model the step can use; the message says why."""


@dataclass(frozen=True)
class ModelRef:
    """A model URI together with the training run that produced it."""

    uri: str
    training_run_id: str


LOGGED_MODEL_URI = re.compile(r"models:/m-[0-9a-f]+")


def resolve_model(model_uri: str, needs: str = "") -> ModelRef:
    """Check that ``model_uri`` names a logged model and find its training run.

    ``needs`` says what the step reads from that run, for the message when it has none
    (e.g. "its backtest")."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if not model_uri.startswith(("runs:/", "models:/")):
        raise ModelUriError(
            f"model_uri {model_uri!r} is not a model URI: use runs:/<run_id>/model "
            f"or models:/<name>@<alias>"
        )
    try:
        info = mlflow.models.get_model_info(model_uri)
    except (MlflowException, OSError) as error:
        raise ModelUriError(
            f"model_uri {model_uri!r} does not name an existing model: {error}"
        ) from error
    if not info.run_id:
        reason = f" to read {needs} from" if needs else ""
        raise ModelUriError(f"model_uri {model_uri!r} has no training run{reason}")
    return ModelRef(uri=model_uri, training_run_id=info.run_id)


def ensure_registrable(model_uri: str) -> None:
    """Register takes a trained model, not a version that the registry already holds."""
    if model_uri.startswith("models:/") and not LOGGED_MODEL_URI.fullmatch(model_uri):
        raise ModelUriError(
            f"model_uri {model_uri!r} names a registered model version; register takes the "
            f"model of a training run: runs:/<run_id>/model (or its models:/m-<id> URI)"
        )


def pip_requirements(packages: tuple[str, ...]) -> list[str]:
    """``packages`` pinned to the installed versions, so ``log_model`` does not spend
    seconds inferring requirements, and the served model gets what it was trained with."""
    return [f"{package}=={version(package)}" for package in packages]


def code_paths(package_dir: Path) -> list[str]:
    """What a served model carries: the project's package and this kit."""
    return [str(package_dir), str(KIT_DIR)]


def log_new_params(run_id: str, params: dict[str, object]) -> None:
    """Log the parameters the run does not have yet.

    ``mlflow run`` already logs the entry point's parameters as given on the command
    line (``03`` stays ``03``); logging the parsed value again would be refused as a change.
    """
    import mlflow
    from mlflow.entities import Param

    client = mlflow.MlflowClient()
    existing = client.get_run(run_id).data.params
    new = [Param(key, str(value)) for key, value in params.items() if key not in existing]
    if new:
        client.log_batch(run_id, params=new)


def training_artifact(ref: ModelRef, artifact: str, what: str, project: str) -> str:
    """The text of ``artifact`` that the model's training run logged; a training run
    without it (a model another step or project made) raises ``ModelUriError``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return str(mlflow.artifacts.load_text(f"runs:/{ref.training_run_id}/{artifact}"))
    except (MlflowException, OSError) as error:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} has no {what} ({artifact}); "
            f"evaluate models logged by the {project} train step"
        ) from error


def tag_evaluation(project: str, ref: ModelRef, run_id: str) -> None:
    """On an evaluate run: the contract's tags (project, step, model, training run) and
    the ``model_uri`` parameter."""
    import mlflow

    from lifecycle import contract

    mlflow.set_tags(
        {
            contract.TRAINING_RUN_ID: ref.training_run_id,
            contract.MODEL_URI: ref.uri,
            **contract.step_tags(project, "evaluate"),
        }
    )
    log_new_params(run_id, {"model_uri": ref.uri})


def named_frame(
    frame: pd.DataFrame, name: str, source: str | None = None, **columns: str
) -> PandasDataset:
    """``frame`` as an MLflow dataset called ``name``, identified by a digest of its rows.
    ``source`` is the file it was read from; without one (rows read from a training
    run's artifact, which MLflow cannot name as a source) MLflow records the code that
    made it. ``columns`` names the ``targets`` and ``predictions`` columns, if any."""
    import warnings

    from mlflow.data.pandas_dataset import from_pandas

    with warnings.catch_warnings():
        # MLflow registers its local source twice and warns that it cannot choose.
        warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
        return from_pandas(frame, source=source, name=name, **columns)  # type: ignore[arg-type]


def log_frame(frame: pd.DataFrame, name: str, context: str, source: str | None = None) -> None:
    """Record ``frame`` as an input of the active run (MLflow's dataset, shown in the UI's
    Dataset column), for ``context``: training, evaluation, scoring or monitoring."""
    import mlflow

    mlflow.log_input(named_frame(frame, name, source), context=context)


def log_figure(figure: Figure, artifact_file: str) -> None:
    """Log a matplotlib figure to the active run, then free it."""
    import matplotlib.pyplot as plt
    import mlflow

    try:
        mlflow.log_figure(figure, artifact_file)
    finally:
        plt.close(figure)

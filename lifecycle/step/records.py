"""What a step records on its run besides its metrics: the parameters ``mlflow run`` did
not log, an evaluate run's contract tags, the data it read or wrote as MLflow datasets
(shown in the UI's Dataset column) and its figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle import contract

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure
    from mlflow.data.pandas_dataset import PandasDataset

    from lifecycle.models import ModelRef


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


def tag_evaluation(project: str, ref: ModelRef, run_id: str) -> None:
    """On an evaluate run: the contract's tags (project, step, model, training run) and
    the ``model_uri`` parameter."""
    import mlflow

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

"""Runs one project's train -> evaluate -> register chain through ``mlflow.run`` and reads
back what the steps recorded.

Each step is its own ``mlflow.run`` call, nested under the active (parent) run; the
steps hand forward the training run id and the model URI built from it, never a path.
"""

from __future__ import annotations

import logging
from pathlib import Path

from orchestrator.core import ChainResult, failed_run_id, model_uri_for

logger = logging.getLogger(__name__)


def _run_step(
    project_dir: Path, step: str, parameters: dict[str, str], env_manager: str, experiment_id: str
) -> str:
    import mlflow

    submitted = mlflow.projects.run(
        str(project_dir),
        entry_point=step,
        parameters=parameters,
        env_manager=env_manager,
        experiment_id=experiment_id,
        synchronous=True,
    )
    return submitted.run_id


def _key_metrics(client: object, run_id: str) -> dict[str, float]:
    """The metrics a training run names in its ``key_metrics`` tag (else its test_* metrics)."""
    data = client.get_run(run_id).data
    names = [name for name in data.tags.get("key_metrics", "").split(",") if name]
    if not names:
        names = [name for name in data.metrics if name.startswith("test_")]
    return {name: data.metrics[name] for name in names if name in data.metrics}


def _read_register_outcome(client: object, run_id: str, result: ChainResult) -> None:
    tags = client.get_run(run_id).data.tags
    result.gate_decision = tags.get("gate.decision")
    result.gate_metric = tags.get("gate.metric")
    result.gate_summary = tags.get("gate.summary")
    if "gate.value" in tags:
        result.gate_value = float(tags["gate.value"])
    result.registered_version = tags.get("registered_version")
    champion = tags.get("champion_version")
    result.champion_version = None if champion in (None, "none") else champion


def run_chain(project_dir: Path, env_manager: str, experiment_id: str) -> ChainResult:
    """Run the three steps of the project in ``project_dir``; a failing step stops its chain."""
    import mlflow

    client = mlflow.MlflowClient()
    result = ChainResult(project=project_dir.name)
    step = "train"
    try:
        train_id = _run_step(project_dir, "train", {}, env_manager, experiment_id)
        result.run_ids["train"] = train_id
        result.metrics = _key_metrics(client, train_id)
        model_uri = model_uri_for(train_id)
        for step in ("evaluate", "register"):
            result.run_ids[step] = _run_step(
                project_dir, step, {"model_uri": model_uri}, env_manager, experiment_id
            )
        _read_register_outcome(client, result.run_ids["register"], result)
    except Exception as error:  # any failure, even building the environment, stops this chain only
        result.failed_step = step
        run_id = failed_run_id(str(error))
        reason = str(error)
        if run_id:
            result.run_ids[step] = run_id
            reason = client.get_run(run_id).data.tags.get("failure_reason", reason)
        reason = reason or type(error).__name__
        result.error = reason
        logger.error("%s: step %s failed: %s", project_dir.name, step, reason)
    return result

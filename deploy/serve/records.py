"""Each rollout, recorded: a run named ``<project> · deploy`` (``lifecycle.step=deploy``)
holding the versions, the timings, the parity result and the decision, and the deployed
version tagged ``lifecycle.deploy.status`` (``serving`` | ``rolled_back`` | ``refused``)
with the reason. The alias is never touched: it is the registry's decision.

A rollout that ends serving its version is a FINISHED run; one refused or rolled back is
FAILED, with ``lifecycle.failure_reason``. Recording is best effort: a tracking server
that cannot be reached must not stop the deployment, so a failure to record is logged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from lifecycle import contract

logger = logging.getLogger(__name__)

SERVING, ROLLED_BACK, REFUSED = "serving", "rolled_back", "refused"


@dataclass
class Rollout:
    """What one rollout did, filled in as it goes."""

    model: str
    version: str
    previous: str | None
    rollout: str
    seen_by: str  # poll | webhook | start
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def note(self, key: str, value: str) -> None:
        self.tags[contract.deploy(key)] = value


def _project(client: Any, model: str) -> str:
    try:
        return client.get_registered_model(model).tags.get(contract.PROJECT) or model
    except Exception:  # the name is what a reader needs if the tag cannot be read
        return model


def record(client: Any, rollout: Rollout, status: str, reason: str) -> str | None:
    """Record ``rollout`` as a run and tag its version; the run's id, or None if the
    tracking server could not take it (logged)."""
    from lifecycle.step.runs import collection_experiment_id

    try:
        project = _project(client, rollout.model)
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or contract.EXPERIMENT
        experiment_id = os.environ.get("MLFLOW_EXPERIMENT_ID") or collection_experiment_id(
            client, name
        )
        tags = {
            **contract.step_tags(project, "deploy"),
            contract.REGISTERED_MODEL: rollout.model,
            contract.MODEL_URI: f"models:/{rollout.model}/{rollout.version}",
            contract.deploy("status"): status,
            contract.deploy("reason"): reason,
            contract.deploy("version"): rollout.version,
            contract.deploy("previous_version"): rollout.previous or "none",
            contract.deploy("rollout"): rollout.rollout,
            contract.deploy("seen_by"): rollout.seen_by,
            **rollout.tags,
        }
        if status != SERVING:
            tags[contract.FAILURE_REASON] = reason
        run = client.create_run(experiment_id, tags=tags, run_name=tags[contract.RUN_NAME])
        run_id = run.info.run_id
        for key, value in rollout.metrics.items():
            client.log_metric(run_id, key, value)
        client.set_terminated(run_id, status="FINISHED" if status == SERVING else "FAILED")
        tag_version(client, rollout.model, rollout.version, status, reason)
        return str(run_id)
    except Exception as error:  # the deployment goes on serving; say what was not recorded
        logger.warning("could not record the rollout of version %s: %s", rollout.version, error)
        return None


def tag_version(client: Any, model: str, version: str, status: str, reason: str) -> None:
    client.set_model_version_tag(model, version, contract.deploy("status"), status)
    client.set_model_version_tag(model, version, contract.deploy("reason"), reason)

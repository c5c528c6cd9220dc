# Generated from lifecycle/failures.py by python -m lifecycle.sync; edit the source.
"""The reason a step failed, written as the ``failure_reason`` tag of its run.

Under ``mlflow run`` the step's run id comes in ``MLFLOW_RUN_ID``, which MLflow removes
from the environment as soon as the step resumes that run, so it is read here at import,
before any step code runs. Outside ``mlflow run`` the run is the last one this process
started. Either way a FAILED run carries its reason.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

# Read once, before MLflow's start_run consumes it.
STEP_RUN_ID = os.environ.get("MLFLOW_RUN_ID") or None
MAX_REASON = 4000


def failed_run_id() -> str | None:
    """The run this step's failure belongs to, if it has one."""
    if STEP_RUN_ID:
        return STEP_RUN_ID
    import sys

    if "mlflow" not in sys.modules:  # MLflow never loaded: no run was started
        return None
    import mlflow

    last = mlflow.last_active_run()
    return last.info.run_id if last is not None else None


def record_failure(message: str) -> None:
    """Tag the failed step's run with ``failure_reason``, and mark it FAILED if it is
    still running. Never raises: the failure itself is already being reported."""
    run_id = failed_run_id()
    if not run_id:
        return
    try:
        import mlflow

        client = mlflow.MlflowClient()
        client.set_tag(run_id, "failure_reason", message[:MAX_REASON])
        if client.get_run(run_id).info.status == "RUNNING" and not STEP_RUN_ID:
            client.set_terminated(run_id, "FAILED")
    except Exception:
        logger.debug("could not tag run %s with its failure", run_id, exc_info=True)

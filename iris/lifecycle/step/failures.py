# Generated from lifecycle/step/failures.py by python -m lifecycle.sync; edit the source.
"""The reason a step failed, as one line for the user and as the ``failure_reason`` tag
of its run.

Under ``mlflow run`` the step's run id comes in ``MLFLOW_RUN_ID``, which MLflow removes
from the environment as soon as the step resumes that run, so it is read here at import,
before any step code runs. Outside ``mlflow run`` the run is the one this invocation
started (``remember_run``). Either way a FAILED run carries its reason.
"""

from __future__ import annotations

import logging
import os
import re

from lifecycle import contract

logger = logging.getLogger(__name__)

# Read once, before MLflow's start_run consumes it.
STEP_RUN_ID = os.environ.get("MLFLOW_RUN_ID") or None
_STARTED: list[str] = []
MAX_REASON = 4000


# What a failing artifact store looks like from an MLflow client: the artifacts server
# answering 5xx (its bucket is gone) or not answering at all, or S3 itself not answering
# a client that holds keys.
ARTIFACT_ROUTE = "/mlflow-artifacts/"
STORE_DOWN = re.compile(
    r"\b50[0234]\b|too many 50\d error responses|Connection refused|Max retries exceeded"
    r"|timed out|RemoteDisconnected",
)
S3_DOWN = "Could not connect to the endpoint URL"  # botocore, for a client holding keys
MAX_DETAIL = 300


def tracking_failure_message(error: Exception) -> str:
    """One line for an MLflow error: which tracking server failed, and how. A failure
    to store or read artifacts says that the artifact store is unreachable."""
    import mlflow

    text = " ".join(str(error).split())
    prefix = f"MLflow tracking at {mlflow.get_tracking_uri()} failed"
    if is_artifact_store_outage(text):
        return (
            f"{prefix}: the artifact store is unreachable, so the run's files could not be "
            f"stored or read ({text[:MAX_DETAIL]})"
        )
    # Capped: an error that quotes the data it failed on must not paste a batch.
    detail = text if len(text) <= MAX_DETAIL else f"{text[:MAX_DETAIL]}…"
    return f"{prefix}: {detail}"


def is_artifact_store_outage(text: str) -> bool:
    """Whether an MLflow error's text shows an artifact store that is down or failing."""
    if S3_DOWN in text:
        return True
    return ARTIFACT_ROUTE in text and STORE_DOWN.search(text) is not None


def remember_run(run_id: str) -> None:
    """Note the run this process works in, once it exists (``step_run``, or the
    orchestrator's parent): a failure after that is recorded on it."""
    _STARTED.append(run_id)


def forget_runs() -> None:
    """Start afresh: a process that runs one command after another (a test, a
    notebook) records each one's failure on its own run only."""
    _STARTED.clear()


def step_run_id() -> str | None:
    """The run of this step process, if it has one: the one ``mlflow run`` made, else
    the one this invocation started."""
    return STEP_RUN_ID or (_STARTED[-1] if _STARTED else None)


def record_failure(message: str, terminate: bool = False, name: str | None = None) -> None:
    """Tag the failed step's run with ``failure_reason``, and mark it FAILED if it is
    still running (under ``mlflow run`` only when ``terminate``: a stopped step's
    launcher may be gone and could not). A run ``mlflow run`` made before the step could
    name it (its options were refused) is given ``name``. Never raises: the failure
    itself is already being reported."""
    try:
        run_id = step_run_id()
    except Exception:  # the run it would name cannot even be read
        logger.debug("could not find the failed step's run", exc_info=True)
        return
    if not run_id:
        return
    try:
        import mlflow

        client = mlflow.MlflowClient()
        client.set_tag(run_id, contract.FAILURE_REASON, message[:MAX_REASON])
        if name and STEP_RUN_ID:
            client.set_tag(run_id, contract.RUN_NAME, name)
        if client.get_run(run_id).info.status == "RUNNING" and (terminate or not STEP_RUN_ID):
            client.set_terminated(run_id, "FAILED")
    except Exception:
        logger.debug("could not tag run %s with its failure", run_id, exc_info=True)

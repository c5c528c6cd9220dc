# Generated from lifecycle/contract.py by python -m lifecycle.sync; edit the source.
"""The tags every project of the collection writes on its runs and model versions, under
one namespace, ``lifecycle.``; the orchestrator reads only these. What each means, and
which step writes it, is in docs/project-contract.md; this module names them once.
"""

from __future__ import annotations

NAMESPACE = "lifecycle."

# On every step run.
PROJECT = "lifecycle.project"  # the project folder's name; also on registered models
STEP = (
    "lifecycle.step"  # train | tune | tune.configuration | tune.trial | evaluate | register | score
    # | monitor | deploy
)
FAILURE_REASON = "lifecycle.failure_reason"  # on a FAILED run: one or two plain lines

# On train (and tune) runs: the metrics a summary shows, comma-separated.
KEY_METRICS = "lifecycle.key_metrics"

# On evaluate, register and score runs: the model they took and the run that trained it.
MODEL_URI = "lifecycle.model_uri"
TRAINING_RUN_ID = "lifecycle.training_run_id"

# On score runs: where the scored rows and the rejected rows were written.
OUTPUT = "lifecycle.output"
REJECTED_OUTPUT = "lifecycle.rejected_output"

# On gold tune runs: the Optuna study and the run holding it (its trials' parent).
STUDY = "lifecycle.study"
STUDY_RUN_ID = "lifecycle.study_run_id"

# On register runs: the registered model, the version created (absent when the gate
# failed) and the champion after the step ("none" when there is none).
REGISTERED_MODEL = "lifecycle.registered_model"
REGISTERED_VERSION = "lifecycle.registered_version"
CHAMPION_VERSION = "lifecycle.champion_version"

# On register runs and the versions they create: the gate's decision and values,
# ``lifecycle.gate.<name>`` (decision, metric, value, threshold, summary, measured_on,
# previous_champion, previous_champion_value, promoted, and per-project extras).
GATE_PREFIX = "lifecycle.gate."

# On register runs and the versions they create: how the champion rule decided,
# ``lifecycle.promotion.<name>``: test (the paired test's name, or "none (...)" when
# promotion_alpha=1 turns it off), alpha, p_value ("none" when no test ran), statistic,
# decision (first | promoted | kept; absent when the gate failed), reason (one line),
# metric and value (what is compared), evidence (the per-row evidence's artifact URI).
PROMOTION_PREFIX = "lifecycle.promotion."

# On model versions while a register step decides the champion: open, then closed.
CONTEST = "lifecycle.contest"

# On register runs' versions: the golden set's artifact URI, requests and the answers the
# version gave them at registration (lifecycle.register.golden); a deployment checks them.
GOLDEN = "lifecycle.golden"

# On deploy runs (``lifecycle.step=deploy``, by ``python -m deploy.serve``) and the
# versions they deploy, ``lifecycle.deploy.<name>``: status (serving | rolled_back |
# refused), reason (one line), and on the run: version, previous_version, rollout
# (switch | canary), parity (passed | failed), decision.
DEPLOY_PREFIX = "lifecycle.deploy."

# On monitor runs, ``lifecycle.monitor.<name>``: status (ok | drift | degraded |
# unjudged), drift (none | drift | unjudged), performance (ok | degraded | unjudged |
# no truth), drifted_features (comma-separated, or none), batch_date (YYYY-MM-DD), reason
# (one line), live_metric (the live metric's name, when the truth was given). On the
# monitored version: status, run_id and batch_date of its latest check.
MONITOR_PREFIX = "lifecycle.monitor."

# On train and tune runs: the artifact holding the profile of the training inputs.
REFERENCE_PROFILE = "reference/profile.json"

STEPS = ("train", "evaluate", "register")

# On a run the orchestrator adds under its parent for a step it reused from the cache:
# the reused run's id (the link run carries no step tag, so nothing ever reuses it).
REUSED_RUN_ID = "lifecycle.reused_run_id"

# The experiment a step or the orchestrator logs to when neither ``mlflow run`` nor
# ``MLFLOW_EXPERIMENT_NAME``/``MLFLOW_EXPERIMENT_ID`` chose one, and the experiment tag
# (MLflow's own) that marks it, and any experiment without a kind, as model training.
EXPERIMENT = "mlflow-lifecycle"
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"

# Run names (MLflow's ``mlflow.runName``): "<project> · <step>", a tune trial
# "<project> · tune · trial <n>", a reused step "<project> · <step> · reused".
RUN_NAME = "mlflow.runName"
NAME_SEPARATOR = " · "
ORCHESTRATOR = "orchestrator"


def gate(name: str) -> str:
    """The tag of gate value ``name``: ``lifecycle.gate.<name>``."""
    return GATE_PREFIX + name


def promotion(name: str) -> str:
    """The tag of promotion field ``name``: ``lifecycle.promotion.<name>``."""
    return PROMOTION_PREFIX + name


def deploy(name: str) -> str:
    """The tag ``lifecycle.deploy.<name>``."""
    return DEPLOY_PREFIX + name


def monitor(name: str) -> str:
    """The tag of monitor field ``name``: ``lifecycle.monitor.<name>``."""
    return MONITOR_PREFIX + name


def run_name(project: str, step: str, *detail: str) -> str:
    """A run's name: ``iris · train``, ``gold_prices · tune · trial 7``. A dotted step tag
    (``tune.trial``) names its parts."""
    return NAME_SEPARATOR.join([project, *step.split("."), *detail])


def trial_name(project: str, number: int, *detail: str) -> str:
    """A tune trial's run name: ``iris · tune · trial 7`` (numbered from 0, as Optuna
    numbers trials), then any ``detail``."""
    return run_name(project, "tune", f"trial {number}", *detail)


def step_tags(project: str, step: str) -> dict[str, str]:
    """The tags that say which project's which step a run is, its name included."""
    return {PROJECT: project, STEP: step, RUN_NAME: run_name(project, step)}

"""The gold tuning study on MLflow's Optuna integration: the study is kept in MLflow
(``mlflow.optuna.storage.MlflowStorage``), on the tune run that created it, and each
trial is a child run of that run. ``engine=local`` runs the trials one after another in
this process; ``engine=spark`` runs them as Spark tasks with
``mlflow.pyspark.optuna.study.MlflowSparkStudy``, on any master URL.

The sampler is Optuna's ``GridSampler`` over the configurations of the search space
(``gold_workflow.search``), seeded with ``random_state``. A study is resumed by name:
another tune run with the same ``study_name`` adds its trials to it and logs the best
configuration of all of them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlflow.optuna.storage import MlflowStorage

from gold_workflow.search import TuneJob, backtest_mase
from lifecycle import contract
from lifecycle.step.progress import Progress

PROGRESS_POLL_SECONDS = 5.0

if TYPE_CHECKING:
    import pandas as pd

    from gold_workflow.backtest import TimeSplit
    from gold_workflow.params import TrainParams

logger = logging.getLogger(__name__)

CONFIG = "config"  # the one Optuna parameter: a configuration's key (``config_key``)
GRID_ATTR = "grid_sha256"  # on the study: which grid it searches
MAX_ROUNDS = 5  # parallel trials may pick one configuration twice; rounds fill the gaps
STUDY_TAG = contract.STUDY
STUDY_RUN_TAG = contract.STUDY_RUN_ID
PROJECT = "gold_prices"


class TuneRunStorage(MlflowStorage):
    """MLflow's Optuna storage, except that a new study lives on the tune run itself
    (named after the study) instead of on a run of its own, so the trials are that run's
    children."""

    def __init__(self, experiment_id: str, tune_run_id: str) -> None:
        super().__init__(experiment_id=experiment_id)
        self._tune_run_id = tune_run_id

    def create_new_study(self, directions: Any, study_name: str | None = None) -> Any:
        from optuna.exceptions import DuplicatedStudyError

        if study_name and self.get_study_id_by_name_if_exists(study_name):
            raise DuplicatedStudyError(f"study {study_name!r} exists")
        self._mlflow_client.set_tag(self._tune_run_id, "mlflow.runName", study_name or "")
        self._mlflow_client.set_tag(
            self._tune_run_id,
            "optuna.study_direction",
            ",".join(direction.name for direction in directions),
        )
        return self._tune_run_id


def legacy_name(storage: MlflowStorage, study_name: str) -> str | None:
    """``study_name`` itself when a study was made under it before study runs were named
    ``gold_prices · tune · study <name>``: such a study is resumed under its own name."""
    import mlflow

    run_id = storage.get_study_id_by_name_if_exists(study_name)
    if run_id and "optuna.study_direction" in mlflow.MlflowClient().get_run(run_id).data.tags:
        return study_name
    return None


def config_key(params: TrainParams) -> str:
    """A configuration as the text Optuna stores: the model and its own values."""
    if params.model == "ridge":
        return f"ridge alpha={params.alpha:g}"
    if params.model == "gradient_boosting":
        return (
            f"gradient_boosting n_estimators={params.n_estimators} "
            f"learning_rate={params.learning_rate:g} max_depth={params.max_depth}"
        )
    return params.model


def grid_digest(keys: list[str], base: TrainParams) -> str:
    """What a resumed study must search again: the grid and the fixed recipe."""
    import hashlib
    import json

    text = json.dumps({"keys": keys, "base": base.as_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StudyMismatchError(ValueError):
    """A study resumed with another grid or recipe than the one it was created with."""


class Objective:
    """A trial: score one configuration by its walk-forward backtest MASE. Picklable, so
    Spark sends it (with the features) to its executors."""

    def __init__(
        self,
        configurations: list[TrainParams],
        features: pd.DataFrame,
        target: pd.Series,
        split: TimeSplit,
    ) -> None:
        self.configurations = configurations
        self.features = features
        self.target = target
        self.split = split

    def __call__(self, trial: Any) -> float:
        import mlflow
        from mlflow.entities import Param, RunTag

        by_key = {config_key(params): params for params in self.configurations}
        key = trial.suggest_categorical(CONFIG, list(by_key))
        params = by_key[key]
        metrics = backtest_mase(params, self.features, self.target, self.split)
        # The trial's run (its id is the trial id) also records the readable recipe.
        mlflow.MlflowClient().log_batch(
            str(trial._trial_id),
            params=[Param(key, str(value)) for key, value in params.as_dict().items()],
            tags=[
                RunTag(contract.PROJECT, PROJECT),
                RunTag(contract.STEP, "tune.trial"),
                RunTag(contract.RUN_NAME, contract.trial_name(PROJECT, trial.number, key)),
            ],
        )
        for name, value in metrics.items():
            if name != "backtest_mase":
                trial.set_user_attr(name, value)
        return float(metrics["backtest_mase"])


@dataclass(frozen=True)
class StudyOutcome:
    """A finished (or resumed) study: its name and run, what this job added, and every
    completed trial as (configuration index in the grid, MASE, trial run id)."""

    name: str
    study_run_id: str
    resumed: bool
    trials_run: int
    completed: list[tuple[int, float, str]]


def _completed(study: Any, keys: list[str]) -> list[tuple[int, float, str]]:
    from optuna.trial import TrialState

    return [
        (keys.index(trial.params[CONFIG]), float(trial.value), str(trial._trial_id))
        for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]


def ended_trials(storage: Any, name: str) -> int:
    """How many of study ``name``'s trials have ended (completed or failed)."""
    from optuna.trial import TrialState

    study_id = storage.get_study_id_by_name_if_exists(name)
    if not study_id:
        return 0
    states = (TrialState.COMPLETE, TrialState.FAIL)
    return len(storage.get_all_trials(study_id, deepcopy=False, states=states))


def report_trials(storage: Any, name: str, progress: Progress) -> threading.Event:
    """A daemon thread that reports the trials Spark's executors have ended (they record
    them in the study's storage), until the returned event is set."""
    finished = threading.Event()
    already = progress.done - ended_trials(storage, name)

    def report() -> None:
        while not finished.wait(PROGRESS_POLL_SECONDS):
            with contextlib.suppress(Exception):  # progress only: the study decides
                progress.update(already + ended_trials(storage, name))

    threading.Thread(target=report, name="gold-study-progress", daemon=True).start()
    return finished


def run_study(
    job: TuneJob,
    objective: Objective,
    run_id: str,
    experiment_id: str,
) -> StudyOutcome:
    """Run up to ``job.trials`` configurations the study has not tried yet."""
    import mlflow
    import optuna
    from optuna.pruners import NopPruner
    from optuna.samplers import GridSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    configurations = objective.configurations
    label = job.study_name or run_id[:8]
    # MLflow's Optuna storage finds a study by its run's name (on Spark executors too),
    # so the study's name is that run's name: "gold_prices · tune · study <label>".
    name = contract.run_name(PROJECT, "tune", f"study {label}")
    storage = TuneRunStorage(experiment_id, run_id)
    if job.study_name and not storage.get_study_id_by_name_if_exists(name):
        name = legacy_name(storage, job.study_name) or name
    existing = storage.get_study_id_by_name_if_exists(name)
    keys = [config_key(params) for params in configurations]
    digest = grid_digest(keys, job.space.base)
    sampler = GridSampler({CONFIG: keys}, seed=job.space.base.random_state)
    if job.on_spark:
        from lifecycle.spark.session import session

        session(job.spark_master, "gold_prices-tune", ("gold_workflow",))
    progress = Progress(f"{PROJECT} · tune", "trials", job.trials)

    def trial_done(study: Any, trial: Any) -> None:
        """After each trial of a local study: progress, and a safe point."""
        progress.advance()

    tried: set[int] = set()
    if existing:
        earlier = optuna.load_study(study_name=name, storage=storage)
        if earlier.user_attrs.get(GRID_ATTR) != digest:
            raise StudyMismatchError(
                f"study {label!r} was created with another grid or recipe (models, the grids, "
                f"horizon, backtest_fraction, refit_every, random_state); resume it with the "
                f"same options, or give a new study_name"
            )
        tried = {index for index, _, _ in _completed(earlier, keys)}
    new_configurations = trials_run = 0
    for _ in range(MAX_ROUNDS):
        untried = len(configurations) - len(tried)
        budget = min(job.trials - new_configurations, untried)
        if budget <= 0:
            break
        if job.on_spark:
            from mlflow.pyspark.optuna.study import MlflowSparkStudy

            from lifecycle.spark.session import raise_if_stopped

            finished = report_trials(storage, name, progress)
            try:
                MlflowSparkStudy(
                    name,
                    storage,
                    sampler=sampler,
                    pruner=NopPruner(),
                    mlflow_tracking_uri=mlflow.get_tracking_uri(),
                    direction=None if existing else "minimize",
                ).optimize(objective, n_trials=budget)
            except Exception as error:  # a stop cancels the study's Spark jobs
                raise_if_stopped(error)
                raise
            finally:
                finished.set()
        elif existing:
            optuna.load_study(
                study_name=name, storage=storage, sampler=sampler, pruner=NopPruner()
            ).optimize(objective, n_trials=budget, callbacks=[trial_done])
        else:
            optuna.create_study(
                study_name=name,
                storage=storage,
                sampler=sampler,
                pruner=NopPruner(),
                direction="minimize",
            ).optimize(objective, n_trials=budget, callbacks=[trial_done])
        if not existing:
            created = optuna.load_study(study_name=name, storage=storage)
            created.set_user_attr(GRID_ATTR, digest)
            existing = run_id
        trials_run += budget
        loaded = optuna.load_study(study_name=name, storage=storage)
        now = {index for index, _, _ in _completed(loaded, keys)}
        new_configurations += len(now - tried)
        tried = now
    study = optuna.load_study(study_name=name, storage=storage)
    study_run_id = storage.get_study_id_from_name(name)
    return StudyOutcome(
        name=label,
        study_run_id=str(study_run_id),
        resumed=str(study_run_id) != run_id,
        trials_run=trials_run,
        completed=_completed(study, keys),
    )

"""Runs the projects' train -> evaluate -> register chains through ``mlflow.run`` and reads
back what the steps recorded.

Each step is its own ``mlflow.run`` call, tagged as a child of the orchestrator's parent
run; the steps hand forward the training run id and the model URI built from it, never
a path. Chains run concurrently, one thread each, while a semaphore bounds how many step
processes run at once. Before a step runs, its cache key is looked up with a
``search_runs`` filter: a finished run with the same key is reused instead.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle import contract, processes
from orchestrator import core, fingerprint
from orchestrator.lines import FAILED, OK, REUSED, StepLines

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

logger = logging.getLogger(__name__)


class StepFailedError(RuntimeError):
    """A step process ended unsuccessfully; ``run_id`` is its run, if one was created."""

    def __init__(self, message: str, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass(frozen=True)
class ProjectPlan:
    """What a chain needs to know about its project, read once before any step runs."""

    directory: Path
    declared: dict[str, dict[str, core.ParamSpec]]
    overrides: dict[str, str]
    code_sha256: str
    env_sha256: str
    forced: bool = False

    @property
    def name(self) -> str:
        return self.directory.name


def plan_project(
    directory: Path, repository_root: Path, overrides: dict[str, str], forced: bool
) -> ProjectPlan:
    return ProjectPlan(
        directory=directory,
        declared=core.entry_point_parameters((directory / "MLproject").read_text()),
        overrides=overrides,
        code_sha256=fingerprint.code_sha256(directory, repository_root),
        env_sha256=fingerprint.env_sha256(directory),
        forced=forced,
    )


class StepRunner:
    """Starts step runs under one parent, at most ``max_parallel`` at a time, and reuses
    cached ones. Safe to share between chain threads."""

    def __init__(
        self,
        *,
        client: MlflowClient,
        experiment_id: str,
        parent_run_id: str,
        env_manager: str,
        max_parallel: int,
        use_cache: bool,
        repository_root: Path,
        lines: StepLines | None = None,
    ) -> None:
        self.client = client
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.env_manager = env_manager
        self.use_cache = use_cache
        self.repository_root = repository_root
        self.lines = lines
        self._slots = threading.BoundedSemaphore(max_parallel)
        self._stopping = threading.Event()

    def cached_run(self, key: str) -> str | None:
        """The newest finished run made with ``key`` in the step experiment, if any."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=core.cache_filter(key),
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return runs[0].info.run_id if runs else None

    def run(self, plan: ProjectPlan, ingredients: core.StepIngredients) -> tuple[str, str]:
        """Run (or reuse) one step; returns its run id and cache outcome."""
        key = ingredients.key()
        if not self.use_cache:
            outcome = "off"
        elif plan.forced:
            outcome = "forced"
        else:
            cached = self.cached_run(key)
            if cached:
                logger.debug("%s: %s reuses run %s", plan.name, ingredients.entry_point, cached)
                self.link_reused(plan.name, ingredients.entry_point, cached)
                if self.lines is not None:
                    self.lines.ended(plan.name, ingredients.entry_point, REUSED, None, cached)
                return cached, "hit"
            outcome = "miss"
        run_id = self._start_and_wait(
            plan.directory, ingredients.entry_point, ingredients.parameters
        )
        self.client.set_tag(run_id, core.CACHE_KEY_TAG, key)
        self.client.set_tag(run_id, core.CACHE_INGREDIENTS_TAG, _ingredients_text(ingredients))
        return run_id, outcome

    def link_reused(self, project: str, entry_point: str, reused_run_id: str) -> str:
        """A finished child of the parent, ``<project> · <step> · reused``, that names and
        links the run the cache reused, so a warm run's tree shows every step. It carries
        no step or cache tag: nothing reads it as a step, and the cache never reuses it."""
        from lifecycle.step.runs import TRAINING_VIEW

        page = f"#/experiments/{self.experiment_id}/runs/{reused_run_id}?{TRAINING_VIEW}"
        link = self.client.create_run(
            self.experiment_id,
            run_name=contract.run_name(project, entry_point, "reused"),
            tags={
                "mlflow.parentRunId": self.parent_run_id,
                contract.PROJECT: project,
                contract.REUSED_RUN_ID: reused_run_id,
                "mlflow.note.content": (
                    f"The step cache reused {project}'s {entry_point} run "
                    f"[{reused_run_id}]({page}): its inputs, code and environment were "
                    "unchanged, so it was not run again."
                ),
            },
        )
        self.client.set_terminated(link.info.run_id, "FINISHED")
        return str(link.info.run_id)

    def start(self, directory: Path, entry_point: str, parameters: dict[str, str]) -> str:
        """Run one step that is never cached (a monitor check is new each time)."""
        return self._start_and_wait(directory, entry_point, parameters)

    def _start_and_wait(self, directory: Path, entry_point: str, parameters: dict[str, str]) -> str:
        """One synchronous ``mlflow.run`` (the asynchronous mode would start an extra
        ``mlflow run`` process per step); MLflow marks the run FINISHED or FAILED. Its
        lines are printed as it starts and ends."""
        with self._slots:
            if self._stopping.is_set():
                raise StepFailedError(
                    f"{directory.name} {entry_point}: not started, the run was interrupted"
                )
            since = self.lines.started(directory.name, entry_point) if self.lines else None
            try:
                run_id = self._run_step(directory, entry_point, parameters)
            except StepFailedError as error:
                if self.lines is not None:
                    reason = self._failure_reason(error.run_id) or str(error)
                    self.lines.ended(
                        directory.name, entry_point, FAILED, since, error.run_id, reason
                    )
                raise
            if self.lines is not None:
                self.lines.ended(directory.name, entry_point, OK, since, run_id)
            return run_id

    def _failure_reason(self, run_id: str | None) -> str | None:
        if not run_id:
            return None
        try:
            return self.client.get_run(run_id).data.tags.get(contract.FAILURE_REASON)
        except Exception:  # the line says what it can; the summary reads the run again
            return None

    def _run_step(self, directory: Path, entry_point: str, parameters: dict[str, str]) -> str:
        """The step's ``mlflow.run``; a failed one leaves its run FAILED with a reason."""
        import mlflow

        try:
            submitted = mlflow.projects.run(  # type: ignore[no-untyped-call]
                str(directory),
                entry_point=entry_point,
                parameters=parameters,
                env_manager=self.env_manager,
                experiment_id=self.experiment_id,
                run_name=contract.run_name(directory.name, entry_point),
                synchronous=True,
            )
        except Exception as error:
            reason = _first_line(error)
            run_id = core.failed_run_id(str(error)) or self._orphaned_step_run(
                directory, entry_point
            )
            if run_id:
                self._fail(run_id, reason)
            raise StepFailedError(reason, run_id) from error
        return str(submitted.run_id)

    def _orphaned_step_run(self, directory: Path, entry_point: str) -> str | None:
        """The step run ``mlflow.run`` created and then left RUNNING because it failed
        before the step started (for example, building its environment). A chain runs one
        step at a time, so the RUNNING child of this parent for this project folder and
        entry point is that run."""
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=(
                f"tags.mlflow.parentRunId = '{self.parent_run_id}' "
                f"and attributes.status = 'RUNNING' "
                f"and tags.`mlflow.project.entryPoint` = '{entry_point}'"
            ),
            max_results=50,
        )
        mine = [run for run in runs if _source_folder(run) == directory.name]
        return mine[0].info.run_id if len(mine) == 1 else None

    def _fail(self, run_id: str, reason: str = "") -> None:
        """A failed step process always leaves a FAILED run (even if the step had ended its
        run), so the cache can never reuse it; a run that has no ``failure_reason`` yet
        gets the error ``mlflow.run`` raised."""
        run = self.client.get_run(run_id)
        if reason and contract.FAILURE_REASON not in run.data.tags:
            self.client.set_tag(run_id, contract.FAILURE_REASON, reason)
        if run.info.status != "FAILED":
            self.client.set_terminated(run_id, "FAILED")

    def adopt_parent(self) -> None:
        """Make the parent run active in the calling chain thread, so ``mlflow.run`` tags
        each step it creates there as the parent's child (active runs are per thread)."""
        import mlflow

        active = mlflow.active_run()
        if active is None:
            mlflow.start_run(run_id=self.parent_run_id)
        elif active.info.run_id != self.parent_run_id:
            raise RuntimeError(f"chain thread has another active run: {active.info.run_id}")

    def stop(self) -> None:
        """On a stop: no further step starts, and the running step processes (children
        of this process) are terminated; ``mlflow.run`` then marks their runs FAILED."""
        self._stopping.set()
        for pid in processes.descendants(os.getpid()):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:  # already gone
                continue


def _ingredients_text(ingredients: core.StepIngredients) -> str:
    import json

    # Tag values are limited in length; the key itself is the exact record.
    return json.dumps(ingredients.as_dict(), sort_keys=True)[:4000]


def _key_metrics(client: MlflowClient, run_id: str) -> dict[str, float]:
    """The metrics a training run names in its ``key_metrics`` tag (else its test_* metrics)."""
    data = client.get_run(run_id).data
    names = [name for name in data.tags.get(contract.KEY_METRICS, "").split(",") if name]
    if not names:
        names = [name for name in data.metrics if name.startswith("test_")]
    return {name: data.metrics[name] for name in names if name in data.metrics}


def _read_register_outcome(client: MlflowClient, run_id: str, result: core.ChainResult) -> None:
    tags = client.get_run(run_id).data.tags
    result.gate_decision = tags.get(contract.gate("decision"))
    result.gate_metric = tags.get(contract.gate("metric"))
    result.gate_summary = tags.get(contract.gate("summary"))
    if contract.gate("value") in tags:
        result.gate_value = float(tags[contract.gate("value")])
    result.registered_version = tags.get(contract.REGISTERED_VERSION)
    result.promotion_decision = tags.get(contract.promotion("decision"))
    result.promotion_compared_on = tags.get(contract.promotion("compared_on"))
    result.promotion_reason = tags.get(contract.promotion("reason"))
    p_value = tags.get(contract.promotion("p_value"))
    if p_value not in (None, "none"):
        try:
            result.promotion_p_value = float(p_value)
        except ValueError:
            result.promotion_p_value = None
    champion = tags.get(contract.CHAMPION_VERSION)
    result.champion_version = None if champion in (None, "none") else champion
    if result.champion_version is None:
        result.champion_note = "missing"
    if result.cache.get("register") == "hit" and tags.get(contract.REGISTERED_MODEL):
        # A reused register run tells what it decided then; the champion may have moved.
        result.champion_version, result.champion_note = _current_champion(
            client, tags[contract.REGISTERED_MODEL]
        )


def _current_champion(client: MlflowClient, model_name: str) -> tuple[str | None, str | None]:
    """The champion's version now, or None and why: "missing" only when the alias (or
    the model) does not exist; any other error is reported as unknown, never as none."""
    from lifecycle.register.registry import RegistryError, champion_version

    try:
        version = champion_version(client, model_name)
    except RegistryError as error:
        return None, f"unknown: {error.reading}"
    if version is None:
        return None, "missing"
    return str(version.version), None


def run_chain(plan: ProjectPlan, runner: StepRunner) -> core.ChainResult:
    """Run the project's three steps in order; a failing step stops its chain only."""
    client = runner.client
    result = core.ChainResult(project=plan.name)
    step = "train"
    try:
        runner.adopt_parent()
        for step in core.STEPS:
            train_id = result.run_ids.get("train")
            handed_over = {} if train_id is None else {"model_uri": core.model_uri_for(train_id)}
            parameters = core.step_parameters(
                plan.declared.get(step, {}), plan.overrides, handed_over, step
            )
            ingredients = core.StepIngredients(
                project=plan.name,
                entry_point=step,
                parameters=parameters,
                code_sha256=plan.code_sha256,
                env_sha256=plan.env_sha256,
                data_sha256=fingerprint.data_sha256(plan.name, parameters, runner.repository_root),
                upstream_run_ids=tuple(
                    result.run_ids[done] for done in core.STEPS if done in result.run_ids
                ),
            )
            run_id, outcome = runner.run(plan, ingredients)
            result.run_ids[step] = run_id
            result.cache[step] = outcome
            if step == "train":
                result.metrics = _key_metrics(client, run_id)
        _read_register_outcome(client, result.run_ids["register"], result)
    except Exception as error:  # any failure, even building the environment, stops this chain only
        result.failed_step = step
        failed_id: str | None = getattr(error, "run_id", None) or core.failed_run_id(str(error))
        reason = str(error)
        if failed_id:
            result.run_ids[step] = failed_id
            tags = client.get_run(failed_id).data.tags
            reason = str(tags.get(contract.FAILURE_REASON, reason))
        reason = reason or type(error).__name__
        result.error = reason
        logger.debug("%s: step %s failed: %s", plan.name, step, reason)
    return result


def _first_line(error: BaseException) -> str:
    """An error as one plain line (MLflow's messages can carry whole command outputs)."""
    text = " ".join(str(error).split())
    return (text[:500] + "...") if len(text) > 500 else (text or type(error).__name__)


def _source_folder(run: Run) -> str:
    """The project folder a step run was made from: MLflow records it as the folder's
    path, or as ``file:///<repository>#<folder>`` when the folder is inside git."""
    source = run.data.tags.get("mlflow.source.name", "")
    if "#" in source:
        source = source.rsplit("#", 1)[1]
    return Path(source.rstrip("/")).name

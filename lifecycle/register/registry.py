"""The model registry, read and written so that it fails closed.

- The champion lookup treats only "no such alias" and "no such model" as "no champion";
  any other error (a 403, a 5xx, a timeout) raises ``RegistryError`` before anything is
  registered or moved.
- A model name belongs to one project: the registered model and every version carry the
  tag ``lifecycle.project``; a register step refuses a name holding another project's (or
  an unlabelled) version, and a model that another project trained.
- A version records its gate value and what it was measured on (``gate.measured_on``);
  values measured on other data are never compared (``lifecycle.register.rule``).
- A write that two register steps can make at once (an alias, a model tag) is retried
  when it collides on its unique key.

The contest that settles the champion among concurrent register steps is
``lifecycle.register.contest``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from typing import TYPE_CHECKING

from lifecycle import contract, stop
from lifecycle.models import error_code, is_missing
from lifecycle.register.rule import ChampionState, Measurement

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
PROJECT_TAG = contract.PROJECT
CONTEST_TAG = contract.CONTEST
MEASURED_ON_TAG = contract.gate("measured_on")
EVIDENCE_TAG = contract.promotion("evidence")
EVIDENCE_DIGEST_TAG = contract.promotion("evidence_sha256")
ALPHA_TAG = contract.promotion("alpha")
SETTLE_SECONDS = 0.2
WRITE_RETRIES = 4


class RegistryError(RuntimeError):
    """The registry could not be read or written safely; nothing further is done.

    ``reading`` is what could not be read and why, without what the step did about it.
    """

    def __init__(self, message: str, reading: str = "") -> None:
        super().__init__(message)
        self.reading = reading or message


def unreadable(what: str, error: Exception) -> RegistryError:
    message = str(getattr(error, "message", error)).splitlines()[0][:300]
    reading = f"could not read {what} ({error_code(error) or type(error).__name__}: {message})"
    return RegistryError(f"{reading}; nothing was registered or moved", reading)


def champion_version(client: MlflowClient, model_name: str) -> ModelVersion | None:
    """The version the champion alias points at, None when there is none; fails closed."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException as error:
        if is_missing(error):
            return None
        raise unreadable(f"the {CHAMPION} alias of {model_name!r}", error) from error
    _require_version(version, f"the {CHAMPION} alias of {model_name!r}")
    return version


def _malformed(what: str, answer: str) -> RegistryError:
    reading = f"could not read {what} (the registry answered {answer})"
    return RegistryError(f"{reading}; nothing was registered or moved", reading)


def _require_version(version: object, what: str) -> None:
    """A version the registry answered with must name a version number; an empty or
    malformed answer is an error, never "no such version"."""
    number = str(getattr(version, "version", "") or "")
    if not number.isdigit() or int(number) < 1:
        raise _malformed(what, f"a version with no version number ({number!r})")


def measurement_of(version: ModelVersion, metric: str) -> tuple[Measurement | None, str]:
    """A version's recorded promotion measurement on ``metric``, or None and why not.

    The value is ``lifecycle.promotion.value``; a version registered before those tags
    existed records it as its gate value (``lifecycle.gate.value``)."""
    tags = version.tags or {}
    prefix = contract.promotion if contract.promotion("metric") in tags else contract.gate
    recorded = tags.get(prefix("metric"))
    if recorded != metric:
        return None, (
            f"it was measured on {recorded}, not {metric}" if recorded else "it records no gate"
        )
    try:
        value = float(tags[prefix("value")])
    except (KeyError, ValueError):
        return None, "its gate value is missing or unreadable"
    if math.isnan(value):
        return None, f"its {metric} is undefined"
    measured_on = tags.get(MEASURED_ON_TAG)
    if not measured_on:
        return None, "it does not record what data its value was measured on"
    return Measurement(value, measured_on), ""


def champion_state(client: MlflowClient, model_name: str, metric: str) -> ChampionState | None:
    """The champion and its measurement on ``metric``; None when there is no champion."""
    version = champion_version(client, model_name)
    if version is None:
        return None
    measurement, unknown = measurement_of(version, metric)
    return ChampionState(str(version.version), measurement, unknown)


def list_versions(client: MlflowClient, model_name: str) -> list[ModelVersion]:
    """Every version of ``model_name`` (none when the model does not exist); fails closed."""
    from mlflow.exceptions import MlflowException

    quoted = model_name.replace("\\", "\\\\").replace("'", "\\'")
    try:
        found = list(client.search_model_versions(f"name = '{quoted}'"))
    except MlflowException as error:
        if is_missing(error):
            return []
        raise unreadable(f"the versions of {model_name!r}", error) from error
    for version in found:
        _require_version(version, f"the versions of {model_name!r}")
    return found


def ensure_trained_by(client: MlflowClient, run_id: str, project: str, model_uri: str) -> None:
    """Refuse a model whose training run was not made by ``project``'s steps, or did
    not finish (FAILED, KILLED, still RUNNING)."""
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as error:
        raise unreadable(f"training run {run_id}", error) from error
    if run.info.run_id != run_id:
        raise _malformed(f"training run {run_id}", f"run {run.info.run_id or 'with no id'!r}")
    if run.info.lifecycle_stage == "deleted":
        raise RegistryError(
            f"{model_uri} comes from training run {run_id}, which was deleted: register only "
            f"a model whose training run is kept (restore the run to register it)"
        )
    if run.info.status != "FINISHED":
        raise RegistryError(
            f"{model_uri} comes from training run {run_id}, which is {run.info.status}, not "
            f"FINISHED: register only a model whose training finished"
        )
    tags = run.data.tags
    owner = tags.get(PROJECT_TAG)
    if owner != project:
        made_by = f"the {owner} project" if owner else "no project of this collection"
        raise RegistryError(
            f"{model_uri} was trained by {made_by}, not by {project}: register it with "
            f"its own project's register step"
        )


def ensure_own_kind(client: MlflowClient, model_name: str, project: str) -> bool:
    """Refuse a model name that holds another project's (or an unlabelled) model, and
    claim an empty name for ``project``. Returns whether the registered model exists."""
    from mlflow.exceptions import MlflowException

    try:
        registered = client.get_registered_model(model_name)
    except MlflowException as error:
        if is_missing(error):
            return False
        raise unreadable(f"registered model {model_name!r}", error) from error
    if getattr(registered, "name", None) != model_name:
        raise _malformed(
            f"registered model {model_name!r}", f"a model named {getattr(registered, 'name', '')!r}"
        )
    tags = registered.tags or {}
    owner = tags.get(PROJECT_TAG)
    if owner == project:
        return True
    if PROJECT_TAG in tags and not str(owner or "").strip():
        raise _malformed(f"the project label of {model_name!r}", "an empty label")
    if owner:
        raise RegistryError(
            f"model name {model_name!r} holds {owner} models; the {project} project registers "
            f"only into names of its own: choose another model_name"
        )
    foreign = [
        f"{version.version} ({(version.tags or {}).get(PROJECT_TAG) or 'no project recorded'})"
        for version in list_versions(client, model_name)
        if (version.tags or {}).get(PROJECT_TAG) != project
    ]
    if foreign:
        raise RegistryError(
            f"model name {model_name!r} holds version(s) not registered by the {project} "
            f"project: {', '.join(foreign[:5])}; choose another model_name"
        )
    claim_name(client, model_name, project)
    return True


def set_alias(client: MlflowClient, model_name: str, alias: str, version: str) -> None:
    """Move an alias, retrying a collision on its unique key (``write``)."""
    write(lambda: client.set_registered_model_alias(model_name, alias, version))


def claim_name(client: MlflowClient, model_name: str, project: str) -> None:
    """Tag the registered model with its project, retrying a collision (``write``)."""
    write(lambda: client.set_registered_model_tag(model_name, PROJECT_TAG, project))


def write(action: Callable[[], object]) -> None:
    """One registry write, after a safe point: a stop asked for before it is acted on
    here, never halfway through. MLflow's SQL store writes an alias or a model tag as
    read-then-insert, so two steps writing the same one at once can collide on its
    unique key; the loser retries (a few times, then the error stands)."""
    from mlflow.exceptions import MlflowException

    stop.point()
    for attempt in range(WRITE_RETRIES):
        try:
            action()
            return
        except MlflowException as error:
            collided = re.search(r"unique|duplicate|integrity", str(error), re.IGNORECASE)
            if not collided or attempt == WRITE_RETRIES - 1:
                raise
            time.sleep(SETTLE_SECONDS * (attempt + 1))

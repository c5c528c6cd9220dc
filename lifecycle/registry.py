"""Registration that fails closed: what a register step reads from, and writes to, the
MLflow model registry.

- The champion lookup treats only "no such alias" and "no such model" as "no champion";
  any other error (a 403, a 5xx, a timeout) raises ``RegistryError`` before anything is
  registered or moved.
- A model name belongs to one project: the registered model and every version carry the
  tag ``lifecycle.project``; a register step refuses a name holding another project's (or
  an unlabelled) version, and a model that another project trained.
- A version records its gate value and what it was measured on (``gate.measured_on``);
  values measured on other data are never compared (``lifecycle.promotion``).
- Concurrent register steps on one model converge: each registers its version marked
  ``lifecycle.contest=open``, then replays every version registered since it started
  (and every open one) against the champion, moves the alias to the winner, and checks
  again until the registry agrees, so the better model ends as champion whichever step
  writes last.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle import contract
from lifecycle.promotion import ChampionState, Measurement, Verdict, contest_winner, verdict

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
# An open contest older than this is a register step that died; it no longer competes.
CONTEST_TTL_SECONDS = 15 * 60
CONTEST_ROUNDS = 5
SETTLE_SECONDS = 0.2
ALIAS_RETRIES = 4

_ALIAS_NOT_FOUND = re.compile(r"alias \S+ not found", re.IGNORECASE)


class RegistryError(RuntimeError):
    """The registry could not be read or written safely; nothing further is done.

    ``reading`` is what could not be read and why, without what the step did about it.
    """

    def __init__(self, message: str, reading: str = "") -> None:
        super().__init__(message)
        self.reading = reading or message


def _error_code(error: Exception) -> str:
    return str(getattr(error, "error_code", ""))


def is_missing(error: Exception) -> bool:
    """True only for "this model or alias does not exist"; every other error is unknown."""
    code = _error_code(error)
    message = str(getattr(error, "message", error))
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return code == "INVALID_PARAMETER_VALUE" and bool(_ALIAS_NOT_FOUND.search(message))


def _unreadable(what: str, error: Exception) -> RegistryError:
    message = str(getattr(error, "message", error)).splitlines()[0][:300]
    reading = f"could not read {what} ({_error_code(error) or type(error).__name__}: {message})"
    return RegistryError(f"{reading}; nothing was registered or moved", reading)


def champion_version(client: MlflowClient, model_name: str) -> ModelVersion | None:
    """The version the champion alias points at, None when there is none; fails closed."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, CHAMPION)
    except MlflowException as error:
        if is_missing(error):
            return None
        raise _unreadable(f"the {CHAMPION} alias of {model_name!r}", error) from error


def measurement_of(version: ModelVersion, metric: str) -> tuple[Measurement | None, str]:
    """A version's recorded gate measurement on ``metric``, or None and why not."""
    tags = version.tags or {}
    if tags.get(contract.gate("metric")) != metric:
        recorded = tags.get(contract.gate("metric"))
        return None, (
            f"it was gated on {recorded}, not {metric}" if recorded else "it records no gate"
        )
    try:
        value = float(tags[contract.gate("value")])
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


def _versions(client: MlflowClient, model_name: str) -> list[ModelVersion]:
    from mlflow.exceptions import MlflowException

    quoted = model_name.replace("\\", "\\\\").replace("'", "\\'")
    try:
        return list(client.search_model_versions(f"name = '{quoted}'"))
    except MlflowException as error:
        if is_missing(error):
            return []
        raise _unreadable(f"the versions of {model_name!r}", error) from error


def ensure_trained_by(client: MlflowClient, run_id: str, project: str, model_uri: str) -> None:
    """Refuse a model whose training run was not made by ``project``'s steps."""
    from mlflow.exceptions import MlflowException

    try:
        tags = client.get_run(run_id).data.tags
    except MlflowException as error:
        raise _unreadable(f"training run {run_id}", error) from error
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
        raise _unreadable(f"registered model {model_name!r}", error) from error
    owner = (registered.tags or {}).get(PROJECT_TAG)
    if owner == project:
        return True
    if owner:
        raise RegistryError(
            f"model name {model_name!r} holds {owner} models; the {project} project registers "
            f"only into names of its own: choose another model_name"
        )
    foreign = [
        f"{version.version} ({(version.tags or {}).get(PROJECT_TAG) or 'no project recorded'})"
        for version in _versions(client, model_name)
        if (version.tags or {}).get(PROJECT_TAG) != project
    ]
    if foreign:
        raise RegistryError(
            f"model name {model_name!r} holds version(s) not registered by the {project} "
            f"project: {', '.join(foreign[:5])}; choose another model_name"
        )
    _claim(client, model_name, project)
    return True


@dataclass(frozen=True)
class Registration:
    """What a register step did: the version it created (None when the gate failed),
    the champion before and after, the rule's verdict and the sentence for the gate line."""

    version: str | None
    champion_before: str | None
    champion_after: str | None
    clause: str
    champion_before_value: float | None = None

    @property
    def promoted(self) -> bool:
        return self.version is not None and self.champion_after == self.version

    def tags(self, gate_text: str) -> dict[str, str]:
        """The decision's tags for the register run and the version: what the champion
        was, whether this version is champion now, and the whole gate line."""
        return {
            contract.gate("previous_champion"): self.champion_before or "none",
            contract.gate("previous_champion_value"): (
                "none" if self.champion_before_value is None else repr(self.champion_before_value)
            ),
            contract.gate("promoted"): str(self.promoted).lower(),
            contract.gate("summary"): f"{gate_text}; {self.clause}",
        }


def _candidates(
    versions: list[ModelVersion], baseline: int, project: str, metric: str, now_ms: int
) -> list[tuple[str, Measurement | None]]:
    found = []
    for version in versions:
        tags = version.tags or {}
        if tags.get(PROJECT_TAG) != project or tags.get(contract.gate("decision")) != "passed":
            continue
        created = int(version.creation_timestamp or 0)
        open_contest = (
            tags.get(CONTEST_TAG) == "open" and now_ms - created < CONTEST_TTL_SECONDS * 1000
        )
        if int(version.version) > baseline or open_contest:
            found.append((str(version.version), measurement_of(version, metric)[0]))
    return found


def _settle(
    client: MlflowClient,
    model_name: str,
    baseline: int,
    project: str,
    metric: str,
    higher_is_better: bool | None,
) -> str | None:
    """Move the champion alias to the contest's winner until the registry agrees."""
    winner = None
    for _ in range(CONTEST_ROUNDS):
        current = champion_version(client, model_name)
        holder = None
        if current is not None:
            holder = (str(current.version), measurement_of(current, metric)[0])
        now_ms = int(time.time() * 1000)
        candidates = _candidates(_versions(client, model_name), baseline, project, metric, now_ms)
        winner = contest_winner(holder, candidates, higher_is_better)
        if winner is None or (current is not None and str(current.version) == winner):
            if winner is None or _stable(client, model_name, winner):
                return winner
            continue
        _set_alias(client, model_name, CHAMPION, winner)
        time.sleep(SETTLE_SECONDS)
    return winner


def _set_alias(client: MlflowClient, model_name: str, alias: str, version: str) -> None:
    """Move an alias, retrying a collision on its unique key (``_write``)."""
    _write(lambda: client.set_registered_model_alias(model_name, alias, version))


def _claim(client: MlflowClient, model_name: str, project: str) -> None:
    """Tag the registered model with its project, retrying a collision (``_write``)."""
    _write(lambda: client.set_registered_model_tag(model_name, PROJECT_TAG, project))


def _write(write: Callable[[], object]) -> None:
    """One registry write. MLflow's SQL store writes an alias or a model tag as
    read-then-insert, so two steps writing the same one at once can collide on its
    unique key; the loser retries (a few times, then the error stands)."""
    from mlflow.exceptions import MlflowException

    for attempt in range(ALIAS_RETRIES):
        try:
            write()
            return
        except MlflowException as error:
            collided = re.search(r"unique|duplicate|integrity", str(error), re.IGNORECASE)
            if not collided or attempt == ALIAS_RETRIES - 1:
                raise
            time.sleep(SETTLE_SECONDS * (attempt + 1))


def _stable(client: MlflowClient, model_name: str, winner: str) -> bool:
    time.sleep(SETTLE_SECONDS)
    current = champion_version(client, model_name)
    return current is not None and str(current.version) == winner


def register_and_promote(
    client: MlflowClient,
    *,
    project: str,
    model_name: str,
    model_uri: str,
    metric: str,
    measurement: Measurement,
    higher_is_better: bool | None,
    passed: bool,
    gate_text: str,
    gate_tags: dict[str, str],
) -> Registration:
    """Register ``model_uri`` when its gate passed, and settle the champion alias.

    Every read that could fail happens before the version is created, so a lookup
    error leaves the registry untouched. ``higher_is_better=None`` means the gate has no
    value to compare: a passing version replaces the champion.
    """
    import mlflow

    exists = ensure_own_kind(client, model_name, project)
    # A model that does not exist has no versions and no champion. (Asked anyway, a team
    # server with basic auth answers 403 for a model nobody may read yet.)
    baseline = (
        max((int(v.version) for v in _versions(client, model_name)), default=0) if exists else 0
    )
    champion = champion_state(client, model_name, metric) if exists else None
    before = champion.version if champion else None
    before_value = champion.measurement.value if champion and champion.measurement else None
    if not passed:
        return Registration(None, before, before, "no model version registered", before_value)
    if higher_is_better is None:
        rule = Verdict(
            True,
            "no champion yet, the new version becomes champion"
            if champion is None
            else f"replaces champion version {champion.version}",
        )
    else:
        rule = verdict(measurement, champion, metric, higher_is_better)
    tags = {
        **gate_tags,
        **Registration(None, before, None, rule.clause, before_value).tags(gate_text),
        contract.gate("promoted"): str(rule.promote).lower(),
        PROJECT_TAG: project,
        MEASURED_ON_TAG: measurement.measured_on,
        CONTEST_TAG: "open",
    }
    registered = mlflow.register_model(model_uri, model_name, tags=tags)
    version = str(registered.version)
    try:
        _claim(client, model_name, project)
        _set_alias(client, model_name, CHALLENGER, version)
        after = _settle(client, model_name, baseline, project, metric, higher_is_better)
    finally:
        client.set_model_version_tag(model_name, version, CONTEST_TAG, "closed")
    clause = rule.clause
    if rule.promote and after != version:
        clause = (
            f"not champion: a concurrent register step made version {after} champion, "
            f"and this version does not beat it"
        )
    elif not rule.promote and after == version:
        clause = "champion after comparing the versions that concurrent register steps made"
    outcome = Registration(version, before, after, clause, before_value)
    for key, value in outcome.tags(gate_text).items():
        if tags.get(key) != value:
            client.set_model_version_tag(model_name, version, key, value)
    return outcome

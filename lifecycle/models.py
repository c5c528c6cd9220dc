"""Naming and reading models, the same way in every step of every project: a model URI
checked and tied to its training run; a URI resolved once to one fixed version
(``ResolvedModel``, what score and monitor use whatever an alias does meanwhile); the
project a model belongs to; the registrable form of a URI; "does not exist" told apart
from every other registry error; pinned requirements and code paths for a logged model.
MLflow is imported inside each function, so a step that fails on its options never pays
for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from lifecycle import contract

# This folder: the step kit a served model imports (its errors), shipped beside it.
KIT_DIR = Path(__file__).resolve().parent


class ModelUriError(ValueError):
    """A model URI that does not name a model the step can use; the message says why."""


@dataclass(frozen=True)
class ModelRef:
    """A model URI together with the training run that produced it."""

    uri: str
    training_run_id: str


@dataclass(frozen=True)
class ResolvedModel:
    """The fixed model a step uses, whatever an alias does while it runs."""

    requested_uri: str
    uri: str  # models:/<name>/<version>, or the runs:/ / models:/m- URI given
    run_id: str
    name: str | None = None
    version: int | None = None


LOGGED_MODEL_URI = re.compile(r"models:/m-[0-9a-f]+")
VERSION_URI = re.compile(r"models:/([^/@]+)(?:@([^/]+)|/([0-9]+))?")
_ALIAS_NOT_FOUND = re.compile(r"alias \S+ not found", re.IGNORECASE)


def error_code(error: Exception) -> str:
    """The MLflow error code of ``error`` ("" for any other error)."""
    return str(getattr(error, "error_code", ""))


def is_missing(error: Exception) -> bool:
    """True only for "this model, version, run or alias does not exist"; every other
    error (a 403, a 5xx, a timeout) is an unknown, never a "no"."""
    code = error_code(error)
    message = str(getattr(error, "message", error))
    if code == "RESOURCE_DOES_NOT_EXIST":
        return True
    return code == "INVALID_PARAMETER_VALUE" and bool(_ALIAS_NOT_FOUND.search(message))


def resolve_model(model_uri: str, needs: str = "") -> ModelRef:
    """Check that ``model_uri`` names a logged model and find its training run.

    ``needs`` says what the step reads from that run, for the message when it has none
    (e.g. "its backtest")."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if not model_uri.startswith(("runs:/", "models:/")):
        raise ModelUriError(
            f"model_uri {model_uri!r} is not a model URI: use runs:/<run_id>/model "
            f"or models:/<name>@<alias>"
        )
    try:
        info = mlflow.models.get_model_info(model_uri)
    except (MlflowException, OSError) as error:
        raise ModelUriError(
            f"model_uri {model_uri!r} does not name an existing model: {error}"
        ) from error
    if not info.run_id:
        reason = f" to read {needs} from" if needs else ""
        raise ModelUriError(f"model_uri {model_uri!r} has no training run{reason}")
    return ModelRef(uri=model_uri, training_run_id=info.run_id)


def ensure_registrable(model_uri: str) -> None:
    """Register takes a trained model, not a version that the registry already holds."""
    if model_uri.startswith("models:/") and not LOGGED_MODEL_URI.fullmatch(model_uri):
        raise ModelUriError(
            f"model_uri {model_uri!r} names a registered model version; register takes the "
            f"model of a training run: runs:/<run_id>/model (or its models:/m-<id> URI)"
        )


def pip_requirements(packages: tuple[str, ...]) -> list[str]:
    """``packages`` pinned to the installed versions, so ``log_model`` does not spend
    seconds inferring requirements, and the served model gets what it was trained with."""
    return [f"{package}=={version(package)}" for package in packages]


def code_paths(package_dir: Path) -> list[str]:
    """What a served model carries: the project's package and this kit."""
    return [str(package_dir), str(KIT_DIR)]


def training_artifact(ref: ModelRef, artifact: str, what: str, project: str) -> str:
    """The text of ``artifact`` that the model's training run logged; a training run
    without it (a model another step or project made) raises ``ModelUriError``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return str(mlflow.artifacts.load_text(f"runs:/{ref.training_run_id}/{artifact}"))
    except (MlflowException, OSError) as error:
        raise ModelUriError(
            f"training run {ref.training_run_id} of {ref.uri!r} has no {what} ({artifact}); "
            f"evaluate models logged by the {project} train step"
        ) from error


def resolve_version(model_uri: str) -> ResolvedModel:
    """Resolve ``model_uri`` once, to a fixed version. A missing model or alias is a
    ``ModelUriError``; any other registry error (403, 5xx) is raised as it is."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    match = VERSION_URI.fullmatch(model_uri)
    if match and not model_uri.startswith("models:/m-"):
        name, alias, number = match.groups()
        if alias is None and number is None:
            raise ModelUriError(
                f"model_uri {model_uri!r} names no version: add @<alias> or /<version>"
            )
        try:
            version = (
                client.get_model_version_by_alias(name, alias)
                if alias is not None
                else client.get_model_version(name, str(number))
            )
        except MlflowException as error:
            if is_missing(error):
                what = f"alias {alias!r}" if alias is not None else f"version {number}"
                raise ModelUriError(
                    f"model_uri {model_uri!r}: registered model {name!r} has no {what}"
                ) from error
            raise
        return ResolvedModel(
            requested_uri=model_uri,
            uri=f"models:/{name}/{version.version}",
            run_id=str(version.run_id or ""),
            name=name,
            version=int(version.version),
        )
    ref = resolve_model(model_uri)
    return ResolvedModel(requested_uri=model_uri, uri=model_uri, run_id=ref.training_run_id)


def check_project(model: ResolvedModel, project: str, step: str) -> None:
    """Refuse, from its registry labels and before any row is read, a model another
    project trained: its training run's ``lifecycle.project`` tag whenever the run has
    one (a version registered by hand under this project's name is still the other
    project's model), and its registered model's. A model without either label is
    refused too: its rows cannot be checked."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient()
    labels: list[tuple[str, str]] = []
    if model.run_id:
        try:
            trained_by = client.get_run(model.run_id).data.tags.get(contract.PROJECT)
        except MlflowException as error:
            if not is_missing(error):
                raise
            trained_by = None
        if trained_by is not None:
            labels.append((f"its training run {model.run_id}", trained_by))
    if model.name:
        named = client.get_registered_model(model.name).tags.get(contract.PROJECT)
        if named is not None:
            labels.append((f"registered model {model.name!r}", named))
    if not labels:
        raise ModelUriError(
            f"model_uri {model.requested_uri!r} carries no {contract.PROJECT} label, so it "
            f"cannot be told apart from another project's model; {step} with a model this "
            f"project trained"
        )
    for where, label in labels:
        if label != project:
            raise ModelUriError(
                f"model_uri {model.requested_uri!r} is a {label} model ({where} says so); "
                f"{project} {step} takes models of {project} (models:/{project}@champion)"
            )


def model_tags(model: ResolvedModel) -> dict[str, str]:
    """The tags that name the fixed model a step used."""
    return {
        contract.MODEL_URI: model.uri,
        contract.TRAINING_RUN_ID: model.run_id,
        **({contract.REGISTERED_MODEL: model.name} if model.name else {}),
        **({contract.REGISTERED_VERSION: str(model.version)} if model.version is not None else {}),
    }

# Generated from lifecycle/scoring.py by python -m lifecycle.sync; edit the source.
"""The ``score`` step: its parameters, the fixed model version it scores with, the
local engine, and the MLflow run that records the job.

The local engine reads the whole input into this process and scores it with pandas; the
Spark engine (``lifecycle.spark``) runs the same row logic (``lifecycle.rows``) on each
partition, so both give the same rows and values. The click command is
``lifecycle.score_command``.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.engines import EngineParams
from lifecycle.errors import DataError, ParameterError
from lifecycle.params import EntryPoint, param
from lifecycle.rows import (
    ORDER,
    REJECTED_SUFFIX,
    Outcome,
    ResolvedModel,
    RowsRejectedError,
    Scorer,
    Targets,
    assemble,
    check_columns,
    describe_problems,
    metadata_of,
    output_schema,
    predict_rows,
    rejected_schema,
    series_problem,
    split_rows,
    to_arrow,
    typed_schema,
)

if TYPE_CHECKING:
    pass

BAD_ROW_POLICIES = ("fail", "quarantine")
WRITE_MODES = ("error", "overwrite")
LOCATION = "a Parquet or CSV file or directory: a path or s3://bucket/prefix"
VERSION_URIS = "models:/<name>@<alias>, models:/<name>/<version> or runs:/<run_id>/model"


@dataclass(frozen=True, kw_only=True)
class ScoreParams(EngineParams):
    """The ``score`` entry point's parameters; the model URI's default is the project's
    champion (``models:/<project>@champion``)."""

    input: str = param(help="the table to score", nonempty=True, allowed=LOCATION)
    output: str = param(
        help="the Parquet directory to write",
        nonempty=True,
        allowed="a Parquet directory: a path or s3://bucket/prefix, apart from the input "
        "(never it, in it, or around it)",
    )
    model_uri: str = param(
        help="the model to score with; an alias is resolved once, before any row is read",
        pattern=r"(models|runs):/.+",
        allowed=VERSION_URIS,
    )
    on_bad_rows: str = param(
        "fail",
        help="what bad rows do: fail (nothing is written) or quarantine (they go to "
        "<output>-rejected)",
        choices=BAD_ROW_POLICIES,
    )
    mode: str = param(
        "error",
        help="what an existing output does: error (stops the job) or overwrite (replaced, "
        "if this collection wrote it)",
        choices=WRITE_MODES,
    )

    def check(self) -> None:
        _check_locations(self.input, self.output)


def score_entry_point(project: str) -> EntryPoint:
    """The ``score`` entry point of ``project``."""
    return EntryPoint(
        command="score",
        help="Score a table with one fixed model version and write Parquet with the metadata.",
        declared=(ScoreParams,),
        defaults=(("model_uri", f"models:/{project}@champion"),),
    )


def _check_locations(input_: str, output: str) -> None:
    """Refuse, as a parameter, an output (or its ``-rejected`` sibling) that is the input,
    lies inside it or contains it, however either is spelled."""
    from lifecycle import outputs, tables

    try:
        source = tables.locate(input_)
        target = tables.locate(output)
        outputs.check_apart(source, (target, target.sibling(REJECTED_SUFFIX)))
    except DataError as error:
        raise ParameterError("output", output, str(error), ("output", "input")) from error


def resolve_version(model_uri: str) -> ResolvedModel:
    """Resolve ``model_uri`` once, to a fixed version. A missing model or alias is a
    ``ModelUriError``; any other registry error (403, 5xx) is raised as it is."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from lifecycle.models import ModelUriError, resolve_model
    from lifecycle.registry import is_missing

    client = mlflow.MlflowClient()
    match = re.fullmatch(r"models:/([^/@]+)(?:@([^/]+)|/([0-9]+))?", model_uri)
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


def score_pandas(
    scorer: Scorer,
    model_path: str,
    files: Any,
    targets: Targets,
    params: ScoreParams,
    metadata: dict[str, Any],
) -> Outcome:
    """The pandas engine: read the whole input, check, score in-process, write one part
    to each claimed folder (no marker: ``score`` writes those last)."""
    from lifecycle import tables

    model = scorer.load(model_path)
    started = time.perf_counter()
    raw_table = tables.read_all(files)
    raw = raw_table.to_pandas()
    if raw.empty:
        raise DataError(f"input {files.location.uri!r} holds no rows")
    check_columns(list(raw.columns), scorer)
    good, rejected = split_rows(raw, scorer, model)
    outcome = Outcome(rows_in=len(raw), rows_rejected=len(rejected))
    outcome.examples = describe_problems(rejected)
    if outcome.rows_rejected and params.on_bad_rows == "fail":
        raise RowsRejectedError(outcome)
    if scorer.series_order is not None:
        good = good.sort_values(ORDER, kind="stable")
        problem = series_problem(scorer, good[ORDER].to_numpy(), good[scorer.series_order])
        if problem:
            raise DataError(problem)
    good = good.reset_index(drop=True)
    predictions = predict_rows(scorer, model, good) if len(good) else None
    schema = output_schema(typed_schema(raw_table.schema, scorer), scorer)
    if predictions is None:
        scored = schema.empty_table()
    else:
        scored = to_arrow(assemble(good, predictions, scorer, metadata), schema)
    outcome.rows_scored = len(good)
    outcome.rows_out = scored.num_rows
    tables.write_part(scored, targets.output.part_path("00000"), targets.output.location)
    if outcome.rows_rejected:
        rejected_table = to_arrow(rejected, rejected_schema(raw_table.schema))
        tables.write_part(
            rejected_table, targets.rejected.part_path("00000"), targets.rejected.location
        )
    outcome.seconds = time.perf_counter() - started
    return outcome


@dataclass(frozen=True)
class ScoreResult:
    """A score run: the fixed model it used, what it did and where it wrote."""

    run_id: str
    model: ResolvedModel
    outcome: Outcome
    output: str
    rejected_output: str | None


def log_outcome(outcome: Outcome) -> None:
    """The row counts, on the active run."""
    import mlflow

    mlflow.log_metrics(
        {
            "rows_in": float(outcome.rows_in),
            "rows_rejected": float(outcome.rows_rejected),
            "rows_scored": float(outcome.rows_scored),
            "rows_out": float(outcome.rows_out),
            "score_seconds": outcome.seconds,
        }
    )


def score(params: ScoreParams, scorer: Scorer) -> ScoreResult:
    """Score ``params.input`` with one fixed model version and write ``params.output``.

    Order of work: the input is listed; the outputs are checked to lie apart from it; the
    model URI is resolved once and checked to be this project's; both output folders are
    claimed (``lifecycle.outputs``); only then are rows read. Bad rows stop the job with
    nothing written, or with ``on_bad_rows=quarantine`` go to ``<output>-rejected`` with
    the reason. The markers come last: the rejected output's, then the output's. On any
    failure (a signal included) what the job wrote is removed and the claims released.
    The run records the input (``log_input``), the fixed version, the counts and the
    outputs."""
    import mlflow

    from lifecycle import contract, outputs, tables
    from lifecycle.models import log_new_params
    from lifecycle.runs import step_run

    with step_run(scorer.project, "score") as run:
        log_new_params(
            run.info.run_id,
            {
                "input": params.input,
                "output": params.output,
                "model_uri": params.model_uri,
                "engine": params.engine,
                "spark_master": params.spark_master,
                "on_bad_rows": params.on_bad_rows,
                "mode": params.mode,
            },
        )
        files = tables.list_input(params.input)
        output = tables.locate(params.output)
        rejected_output = output.sibling(REJECTED_SUFFIX)
        outputs.check_apart(files.location, (output, rejected_output))
        check_columns(tables.input_schema(files).names, scorer)
        model = resolve_version(params.model_uri)
        check_project(model, scorer.project)
        mlflow.set_tags(model_tags(model))
        log_dataset(files, scorer.project)
        record = outputs.new_record(run.info.run_id)
        overwrite = params.mode == "overwrite"
        active = outputs.job_active_here_or_tracked
        first = outputs.claim(output, record, overwrite, active)
        try:
            second = outputs.claim(rejected_output, record, overwrite, active)
        except BaseException:
            outputs.discard(first)
            raise
        targets = Targets(first, second)
        try:
            outcome = _run_engine(params, scorer, files, targets, model)
            _complete(targets, outcome, files, model)
        except BaseException:
            outputs.discard(targets.output)
            outputs.discard(targets.rejected)
            raise
        log_outcome(outcome)
        mlflow.set_tags(
            {
                contract.OUTPUT: output.uri,
                contract.REJECTED_OUTPUT: rejected_output.uri if outcome.rows_rejected else "none",
            }
        )
    return ScoreResult(
        run.info.run_id,
        model,
        outcome,
        output.uri,
        rejected_output.uri if outcome.rows_rejected else None,
    )


def _run_engine(
    params: ScoreParams, scorer: Scorer, files: Any, targets: Targets, model: ResolvedModel
) -> Outcome:
    """The model downloaded once, then the chosen engine's pass over the input."""
    import tempfile

    import mlflow
    import pandas as pd

    metadata = metadata_of(model, pd.Timestamp.now(tz="UTC").floor("us"))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A stop mid-download may leave MLflow's download threads writing: clean up anyway.
    with tempfile.TemporaryDirectory(prefix="score-model-", ignore_cleanup_errors=True) as scratch:
        model_path = mlflow.artifacts.download_artifacts(model.uri, dst_path=scratch)
        try:
            if params.on_spark:
                from lifecycle.spark import score_spark

                quarantine = params.on_bad_rows == "quarantine"
                return score_spark(
                    scorer, model_path, files, targets, params.spark_master, quarantine, metadata
                )
            return score_pandas(scorer, model_path, files, targets, params, metadata)
        except RowsRejectedError as error:
            log_outcome(error.outcome)
            raise


def _complete(targets: Targets, outcome: Outcome, files: Any, model: ResolvedModel) -> None:
    """The markers, last: the rejected output's (or its claim released), then the
    output's, each a manifest of the job."""
    from lifecycle import outputs

    def manifest(rows: dict[str, int], rejected: str | None) -> outputs.Manifest:
        return outputs.Manifest(
            token=targets.output.token,
            run_id=targets.output.record.run_id,
            input=files.location.uri,
            input_digest=files.digest(),
            model_uri=model.uri,
            model_name=model.name,
            model_version=model.version,
            rows=rows,
            rejected_output=rejected,
        )

    counts = {
        "in": outcome.rows_in,
        "rejected": outcome.rows_rejected,
        "scored": outcome.rows_scored,
        "out": outcome.rows_out,
    }
    if outcome.rows_rejected:
        outputs.complete(targets.rejected, manifest(counts, None))
        rejected_uri: str | None = targets.rejected.location.uri
    else:
        outputs.discard(targets.rejected)
        rejected_uri = None
    outputs.complete(targets.output, manifest(counts, rejected_uri))


def model_tags(model: ResolvedModel) -> dict[str, str]:
    """The tags that name the fixed model a score run used."""
    from lifecycle import contract

    return {
        contract.MODEL_URI: model.uri,
        contract.TRAINING_RUN_ID: model.run_id,
        **({contract.REGISTERED_MODEL: model.name} if model.name else {}),
        **({contract.REGISTERED_VERSION: str(model.version)} if model.version is not None else {}),
    }


def log_dataset(files: Any, project: str) -> None:
    """The input as the run's dataset (``log_input``), identified by its listing's digest."""
    import warnings

    import mlflow
    from mlflow.data.dataset_source_registry import resolve_dataset_source
    from mlflow.data.meta_dataset import MetaDataset

    with warnings.catch_warnings():
        # MLflow registers its local source twice and warns that it cannot choose.
        warnings.filterwarnings("ignore", "The specified dataset source can be interpreted")
        source = resolve_dataset_source(files.location.uri)
    dataset = MetaDataset(  # type: ignore[abstract]  # MLflow's own class, usable as is
        source=source, name=f"{project}-score-input", digest=files.digest()
    )
    mlflow.log_input(dataset, context="scoring")


def check_project(model: ResolvedModel, project: str) -> None:
    """Refuse, from its registry labels and before any row is read, a model another
    project trained: its registered model's ``lifecycle.project`` tag, else its training
    run's. A model without either label is refused too: its rows cannot be checked."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from lifecycle import contract
    from lifecycle.models import ModelUriError

    client = mlflow.MlflowClient()
    label = None
    if model.name:
        label = client.get_registered_model(model.name).tags.get(contract.PROJECT)
    if label is None and model.run_id:
        try:
            label = client.get_run(model.run_id).data.tags.get(contract.PROJECT)
        except MlflowException as error:
            from lifecycle.registry import is_missing

            if not is_missing(error):
                raise
    if label is None:
        raise ModelUriError(
            f"model_uri {model.requested_uri!r} carries no {contract.PROJECT} label, so it "
            f"cannot be told apart from another project's model; score with a model this "
            f"project trained"
        )
    if label != project:
        raise ModelUriError(
            f"model_uri {model.requested_uri!r} is a {label} model; {project} score takes "
            f"models of {project} (models:/{project}@champion)"
        )


def score_line(project: str, result: ScoreResult) -> str:
    """The line the score command prints."""
    outcome = result.outcome
    return (
        f"{project} score: run_id={result.run_id} model_uri={result.model.uri} "
        f"rows_in={outcome.rows_in} rows_scored={outcome.rows_scored} "
        f"rows_rejected={outcome.rows_rejected} rows_out={outcome.rows_out} "
        f"output={result.output} rejected_output={result.rejected_output or 'none'}"
    )

# Generated from lifecycle/score/step.py by python -m lifecycle.sync; edit the source.
"""The ``score`` step: one fixed model version, one input, one claimed output (and its
``-rejected`` sibling), one MLflow run that records the job.

The work runs one way, forward: the input is listed and its schema read once
(``lifecycle.io.tables``); the outputs are checked to lie apart from it; the model URI
is resolved once and checked to be this project's (``lifecycle.models``); both output
folders are claimed (``lifecycle.io.outputs``); only then are rows read, by the chosen
engine (``local_engine`` or ``spark_engine``). Bad rows stop the job with nothing
written, or with ``on_bad_rows=quarantine`` go to ``<output>-rejected`` with the reason.
The manifests come last (``lifecycle.io.manifests``): the rejected output's, then the
output's. On any failure, a stop included, what the job wrote is removed and the claims
released. The click command is ``lifecycle.score.command``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle import contract, stop
from lifecycle.io import claims, manifests, outputs, tables
from lifecycle.io.locations import check_apart, locate
from lifecycle.models import ResolvedModel, check_project, model_tags, resolve_version
from lifecycle.score.assembly import metadata_of
from lifecycle.score.job import Outcome, RowsRejectedError, ScoreJob, Targets
from lifecycle.score.params import REJECTED_SUFFIX, ScoreParams
from lifecycle.score.rows import check_columns
from lifecycle.step.progress import Progress
from lifecycle.step.records import log_new_params
from lifecycle.step.runs import step_run

if TYPE_CHECKING:
    import pyarrow as pa

    from lifecycle.score.rows import Scorer


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
    """Score ``params.input`` with one fixed model version and write ``params.output``
    (the order of work is the module's). The run records the input (``log_input``),
    the fixed version, the counts and the outputs."""
    import mlflow

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
        output = locate(params.output)
        rejected_output = output.sibling(REJECTED_SUFFIX)
        check_apart(files.location, (output, rejected_output))
        schemas = tables.file_schemas(files)
        schema = tables.input_schema(files, schemas)
        check_columns(schema.names, scorer)
        model = resolve_version(params.model_uri)
        check_project(model, scorer.project, "score")
        mlflow.set_tags(model_tags(model))
        log_dataset(files, scorer.project)
        stop.point()
        record = claims.new_record(run.info.run_id)
        overwrite = params.mode == "overwrite"
        active = claims.job_active_here_or_tracked
        first = outputs.claim(output, record, overwrite, active)
        try:
            second = outputs.claim(rejected_output, record, overwrite, active)
        except BaseException:
            outputs.discard(first)
            raise
        targets = Targets(first, second)
        try:
            outcome = _run_engine(params, scorer, files, schemas, schema, targets, model)
            stop.point()
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
    params: ScoreParams,
    scorer: Scorer,
    files: tables.InputFiles,
    schemas: list[pa.Schema],
    schema: pa.Schema,
    targets: Targets,
    model: ResolvedModel,
) -> Outcome:
    """The model downloaded once, then the chosen engine's pass over the input."""
    import mlflow
    import pandas as pd

    metadata = metadata_of(model, pd.Timestamp.now(tz="UTC").floor("us"))
    quarantine = params.on_bad_rows == "quarantine"
    progress = Progress(f"{scorer.project} · score", "rows", tables.count_rows(files))
    # A stop mid-download may leave MLflow's download threads writing: clean up anyway.
    with tempfile.TemporaryDirectory(prefix="score-model-", ignore_cleanup_errors=True) as scratch:
        model_path = mlflow.artifacts.download_artifacts(model.uri, dst_path=scratch)
        stop.point()
        job = ScoreJob(
            scorer, model_path, files, schemas, schema, targets, quarantine, metadata, progress
        )
        try:
            if params.on_spark:
                from lifecycle.score.spark_engine import score_spark

                return score_spark(job, params.spark_master)
            from lifecycle.score.local_engine import score_local

            return score_local(job)
        except RowsRejectedError as error:
            log_outcome(error.outcome)
            raise


def _complete(
    targets: Targets, outcome: Outcome, files: tables.InputFiles, model: ResolvedModel
) -> None:
    """The markers, last: the rejected output's (or its claim released), then the
    output's, each a manifest of the job."""

    def manifest(rows: dict[str, int], rejected: str | None) -> manifests.Manifest:
        return manifests.Manifest(
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
        manifests.complete(targets.rejected, manifest(counts, None))
        rejected_uri: str | None = targets.rejected.location.uri
    else:
        outputs.discard(targets.rejected)
        rejected_uri = None
    manifests.complete(targets.output, manifest(counts, rejected_uri))


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


def score_line(project: str, result: ScoreResult) -> str:
    """The line the score command prints."""
    outcome = result.outcome
    return (
        f"{project} score: run_id={result.run_id} model_uri={result.model.uri} "
        f"rows_in={outcome.rows_in} rows_scored={outcome.rows_scored} "
        f"rows_rejected={outcome.rows_rejected} rows_out={outcome.rows_out} "
        f"output={result.output} rejected_output={result.rejected_output or 'none'}"
    )

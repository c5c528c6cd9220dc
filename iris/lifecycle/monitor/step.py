# Generated from lifecycle/monitor/step.py by python -m lifecycle.sync; edit the source.
"""The ``monitor`` step every project runs the same way: one fixed model version, one
batch, its drift against the version's reference profile and, with the truth, its live
performance; one MLflow run per check and the status on the version.

A project supplies a ``ProjectMonitor``: how a batch becomes the profiled features, the
batch's own date if it has one, and the live check. The train step stores the profile
with every model (``log_profile``). The click command is ``lifecycle.monitor.command``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from lifecycle import contract, stop
from lifecycle.errors import DataError
from lifecycle.monitor.drift import Profile, ProfileError, drift_report
from lifecycle.monitor.params import MonitorParams
from lifecycle.monitor.verdicts import (
    DEGRADED,
    DRIFT,
    DRIFT_PLOT,
    NO_TRUTH,
    NONE,
    OK,
    REPORT_HTML,
    REPORT_JSON,
    UNJUDGED,
    LiveCheck,
    UnjudgedError,
    Verdicts,
    alarm,
    metrics_of,
    report_html,
    report_json,
)
from lifecycle.step.command import StepError

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from mlflow import MlflowClient

    from lifecycle.models import ResolvedModel
    from lifecycle.monitor.drift import DriftReport

logger = logging.getLogger(__name__)
# The metadata column every score output row carries: the run of the model that scored it.
SCORED_BY = "model_run_id"


class ProjectMonitor(Protocol):
    """What the monitor step needs of a project."""

    project: str
    # What the truth holds, in a few words; None when the project has no live feedback.
    feedback: str | None

    def features(self, batch: pd.DataFrame) -> pd.DataFrame:
        """The profiled features of a batch (raise ``UnjudgedError`` when the batch holds
        nothing the profile describes, ``DataError`` when it is malformed)."""
        ...

    def batch_date(self, batch: pd.DataFrame) -> pd.Timestamp | None:
        """The batch's own date (its last bar's, say), or None."""
        ...

    def live(
        self, model: ResolvedModel, batch: pd.DataFrame, truth: pd.DataFrame, alpha: float
    ) -> LiveCheck:
        """Live performance of ``model`` on what ``truth`` holds (``UnjudgedError`` when
        nothing of it can be joined yet)."""
        ...


class MonitorAlarmError(StepError):
    """The check ran and was recorded, and its status reached ``fail_on``: exit 3."""

    exit_code = 3


@dataclass(frozen=True)
class MonitorResult:
    """One check: its run, the fixed version, the batch's date and the verdicts."""

    run_id: str
    model_uri: str
    batch_date: str
    rows: int
    verdicts: Verdicts


def log_profile(profile: Profile) -> None:
    """Store the profile of the training inputs on the active run, beside the model."""
    import mlflow

    mlflow.log_text(profile.to_json(), contract.REFERENCE_PROFILE)


def read_profile(client: MlflowClient, run_id: str) -> Profile | None:
    """The reference profile a training run stored, or None when it stored none (a model
    trained before profiles were kept). A listing or download that fails is an error,
    never read as "no profile"."""
    import tempfile

    folder, name = os.path.split(contract.REFERENCE_PROFILE)
    listed = {os.path.basename(item.path) for item in client.list_artifacts(run_id, folder)}
    if name not in listed:
        return None
    with tempfile.TemporaryDirectory(prefix="monitor-profile-") as scratch:
        path = client.download_artifacts(run_id, contract.REFERENCE_PROFILE, scratch)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    return Profile.from_json(text)


def read_table(uri: str, what: str) -> pd.DataFrame:
    """A Parquet or CSV file or directory as one table (CSV cells as text). A score
    output of this collection is read as its manifest lists it, or refused with the
    reason (incomplete, or holding files the manifest does not list)."""
    from lifecycle.io import manifests, tables
    from lifecycle.io.locations import locate

    location = locate(uri)
    if manifests.is_output(location):
        frame: pd.DataFrame = manifests.read_output(uri).to_pandas()
    else:
        frame = tables.read_all(tables.list_input(uri)).to_pandas()
    if frame.empty:
        raise DataError(f"{what} {location.uri!r} holds no rows")
    return frame


def check_scored_by(batch: pd.DataFrame, model: ResolvedModel) -> None:
    """Refuse a score output that another model version scored, where the live check
    reads its predictions: they are that version's, not the monitored one's. (Drift
    does not care which model scored a batch.)"""
    if SCORED_BY not in batch.columns:
        return
    runs = sorted({str(value) for value in batch[SCORED_BY].dropna().unique()})
    others = [run for run in runs if run != model.run_id]
    if others:
        raise DataError(
            f"the input is a score output of the model trained by run {others[0]}, not of "
            f"{model.uri} (trained by run {model.run_id}); monitor the version that scored it"
        )


def judge_drift(
    profile: Profile | None,
    batch: pd.DataFrame,
    monitor: ProjectMonitor,
    params: MonitorParams,
) -> tuple[str, DriftReport | None, str]:
    """The drift verdict, its report, and why it could not be judged."""
    if profile is None:
        return (
            UNJUDGED,
            None,
            "the model version carries no reference profile (trained before profiles were "
            "stored); retrain it to monitor drift",
        )
    try:
        features = monitor.features(batch)
        report = drift_report(profile, features, params.alpha, params.drift_share)
    except UnjudgedError as reason:
        return UNJUDGED, None, str(reason)
    except ProfileError as error:
        raise DataError(str(error)) from error
    if report.tested == 0:
        return (
            UNJUDGED,
            None,
            f"the batch's {len(features)} row(s) hold no value of any profiled feature",
        )
    return (DRIFT if report.drifted else NONE), report, ""


def judge_performance(
    model: ResolvedModel,
    batch: pd.DataFrame,
    monitor: ProjectMonitor,
    params: MonitorParams,
) -> tuple[str, LiveCheck | None, str]:
    """The performance verdict, the live check, and why it could not be judged."""
    if not params.truth.strip():
        return NO_TRUTH, None, ""
    truth = read_table(params.truth, "truth")
    try:
        live = monitor.live(model, batch, truth, params.alpha)
    except UnjudgedError as reason:
        return UNJUDGED, None, str(reason)
    return (DEGRADED if live.degraded else OK), live, ""


def drift_figure(report: DriftReport) -> Figure:
    """Each tested feature's p-value (log scale), drifted ones in red, the level drawn."""
    from matplotlib.figure import Figure

    tested = [f for f in report.features if f.tested]
    figure = Figure(figsize=(7, 0.9 + 0.28 * max(1, len(tested))))
    axes = figure.add_subplot()
    names = [f.name for f in tested]
    values = [max(f.adjusted_p_value, 1e-300) for f in tested]
    colours = ["#c0392b" if f.drifted else "#2e86c1" for f in tested]
    axes.barh(names, values, color=colours)
    axes.set_xscale("log")
    axes.axvline(report.alpha, color="black", linestyle="--", label=f"alpha {report.alpha:g}")
    axes.invert_yaxis()
    axes.set_xlabel("Holm-adjusted p-value (drifted features in red)")
    axes.set_title(
        f"{len(report.drifted_features)} of {len(tested)} features drifted: "
        f"{'drift' if report.drifted else 'no drift'}"
    )
    axes.legend(loc="lower left")
    figure.tight_layout()
    return figure


def monitor(params: MonitorParams, project_monitor: ProjectMonitor) -> MonitorResult:
    """Check ``params.input`` with one fixed model version and record the check.

    Order of work: the model URI is resolved once and checked to be this project's; the
    batch (and the truth) are read; drift and live performance are judged; the run gets
    the metrics (timestamped with the batch's date and linked to the version's logged
    model), the report and the plot, the tags; the version gets the status when this
    batch is not older than the one it last recorded. A status that reaches ``fail_on``
    then ends the run FAILED with the reason and exits 3."""
    import mlflow

    from lifecycle.models import check_project, model_tags, resolve_version
    from lifecycle.step.records import log_figure, log_frame, log_new_params
    from lifecycle.step.runs import step_run

    project = project_monitor.project
    with step_run(project, "monitor") as run:
        run_id = run.info.run_id
        log_new_params(
            run_id,
            {
                "input": params.input,
                "model_uri": params.model_uri,
                "truth": params.truth,
                "fail_on": params.fail_on,
                "monitor_alpha": params.alpha,
                "drift_share": params.drift_share,
                "batch_date": params.batch_date,
            },
        )
        model = resolve_version(params.model_uri)
        check_project(model, project, "monitor")
        mlflow.set_tags(model_tags(model))
        client = mlflow.MlflowClient()
        batch = read_table(params.input, "input")
        stop.point()
        log_frame(batch, f"{project}-monitor-input", "monitoring", source=params.input)
        profile = read_profile(client, model.run_id) if model.run_id else None
        drift, report, drift_reason = judge_drift(profile, batch, project_monitor, params)
        performance, live, performance_reason = judge_performance(
            model, batch, project_monitor, params
        )
        stop.point()
        verdicts = Verdicts(drift, performance, report, drift_reason, live, performance_reason)
        batch_date = _batch_date(params, batch, project_monitor)
        header = {
            "project": project,
            "model_uri": model.uri,
            "requested_model_uri": model.requested_uri,
            "training_run_id": model.run_id,
            "input": params.input,
            "truth": params.truth or "none",
            "batch_date": batch_date,
            "rows": str(len(batch)),
        }
        _log_check(client, run_id, model, verdicts, batch_date)
        mlflow.log_text(report_json(verdicts, header), REPORT_JSON)
        mlflow.log_text(report_html(verdicts, header), REPORT_HTML)
        if report is not None:
            log_figure(drift_figure(report), DRIFT_PLOT)
        _tag_version(client, model, verdicts.status, run_id, batch_date)
        reason = alarm(params.fail_on, verdicts)
        if reason is not None:
            message = (
                f"{project} monitor: run_id={run_id} status={verdicts.status}: {reason}; "
                f"{verdicts.reason()}"
            )
            mlflow.set_tag(contract.FAILURE_REASON, message[:4000])
            raise MonitorAlarmError(message)
    return MonitorResult(run_id, model.uri, batch_date, len(batch), verdicts)


def _batch_date(params: MonitorParams, batch: pd.DataFrame, monitor: ProjectMonitor) -> str:
    if params.batch_date:
        try:
            return pd.Timestamp(params.batch_date).strftime("%Y-%m-%d")
        except ValueError as error:
            raise DataError(f"batch_date {params.batch_date!r} is not a date") from error
    own = monitor.batch_date(batch)
    if own is not None:
        return pd.Timestamp(own).strftime("%Y-%m-%d")
    return pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")


def _log_check(
    client: MlflowClient, run_id: str, model: ResolvedModel, verdicts: Verdicts, batch_date: str
) -> None:
    """Metrics at the batch's date (linked to the version's logged model, so its page
    charts them over time) and the run's monitor tags, in one batch."""
    from mlflow.entities import Metric, RunTag

    timestamp = int(pd.Timestamp(batch_date, tz="UTC").timestamp() * 1000)
    model_id = _logged_model_id(client, model)
    report = verdicts.drift_report
    drifted = ",".join(report.drifted_features) if report is not None else ""
    tags = {
        contract.monitor("status"): verdicts.status,
        contract.monitor("drift"): verdicts.drift,
        contract.monitor("performance"): verdicts.performance,
        contract.monitor("drifted_features"): (drifted or "none")[:4000],
        contract.monitor("batch_date"): batch_date,
        contract.monitor("reason"): verdicts.reason()[:4000],
        **({contract.monitor("live_metric"): verdicts.live.metric} if verdicts.live else {}),
    }
    metrics = [
        Metric(key, value, timestamp, 0, model_id=model_id)
        for key, value in metrics_of(verdicts).items()
    ]
    for start in range(0, max(1, len(metrics)), 1000):
        client.log_batch(
            run_id,
            metrics=metrics[start : start + 1000],
            tags=[RunTag(k, v) for k, v in tags.items()] if start == 0 else [],
        )


def _logged_model_id(client: MlflowClient, model: ResolvedModel) -> str | None:
    """The logged model (``m-...``) behind a registered version, if MLflow keeps one."""
    if model.name is None or model.version is None:
        return None
    version = client.get_model_version(model.name, str(model.version))
    return getattr(version, "model_id", None) or None


def _tag_version(
    client: MlflowClient, model: ResolvedModel, status: str, run_id: str, batch_date: str
) -> None:
    """The version's latest status, unless it already holds a later batch's."""
    if model.name is None or model.version is None:
        return
    version = client.get_model_version(model.name, str(model.version))
    recorded = (version.tags or {}).get(contract.monitor("batch_date"), "")
    if recorded and recorded > batch_date:
        logger.info("version %s keeps the status of its later batch (%s)", model.version, recorded)
        return
    for key, value in (
        ("status", status),
        ("run_id", run_id),
        ("batch_date", batch_date),
    ):
        client.set_model_version_tag(model.name, str(model.version), contract.monitor(key), value)


def monitor_line(project: str, result: MonitorResult) -> str:
    """The line the monitor command prints."""
    verdicts = result.verdicts
    report = verdicts.drift_report
    drifted = ",".join(report.drifted_features) if report is not None else ""
    live = verdicts.live
    live_text = f" {live.metric}={live.value:.4g} live_p_value={live.p_value:.4g}" if live else ""
    return (
        f"{project} monitor: run_id={result.run_id} model_uri={result.model_uri} "
        f"batch_date={result.batch_date} rows={result.rows} status={verdicts.status} "
        f"drift={verdicts.drift} drift_share="
        f"{'none' if report is None else f'{report.share:.2f}'} "
        f"drifted_features={drifted or 'none'} performance={verdicts.performance}"
        f"{live_text}; {verdicts.reason()}"
    )

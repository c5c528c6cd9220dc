# Generated from lifecycle/monitor/verdicts.py by python -m lifecycle.sync; edit the source.
"""The ``monitor`` step's verdicts and its report. Pure: no MLflow.

A monitor check looks at one batch with one fixed model version and gives two verdicts:

- **drift** (``lifecycle.monitor.drift``): each profiled input feature of the batch against the
  version's reference profile. ``none``, ``drift``, or ``unjudged`` when the version
  carries no profile or the batch holds nothing the profile describes.
- **performance**, where the truth is known (``-P truth=``): the project's live metric
  and a one-sided test that the model does worse live than when it was measured.
  ``ok``, ``degraded``, ``unjudged`` (truth given, but nothing of it can be joined yet),
  or ``no truth``.

The status is the worse of the two: ``degraded``, else ``drift``, else ``ok``; it is
``unjudged`` when neither could be judged. ``fail_on`` names the status from which the
step exits 3: ``drift`` also fails on a drift that cannot be judged, ``degraded`` on a
performance that cannot be (fail closed).
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field

from lifecycle.monitor.drift import DriftReport
from lifecycle.significance import format_p

OK, DRIFT, DEGRADED, UNJUDGED = "ok", "drift", "degraded", "unjudged"
NONE = "none"
NO_TRUTH = "no truth"
STATUSES = (OK, DRIFT, DEGRADED, UNJUDGED)
FAIL_ON = (NONE, DRIFT, DEGRADED)
ALARM_EXIT_CODE = 3
REPORT_JSON = "monitor/report.json"
REPORT_HTML = "monitor/report.html"
DRIFT_PLOT = "monitor/drift.png"
DATE_PATTERN = r"(\d{4}-\d{2}-\d{2})?"


class UnjudgedError(Exception):
    """A verdict that cannot be reached, and why (one line)."""


@dataclass(frozen=True)
class LiveCheck:
    """Live performance: the metric on the rows whose truth is known, what it was when
    the model was measured, and the one-sided test of "worse live"."""

    metric: str  # e.g. live_accuracy, live_mase
    value: float
    reference: float  # the same metric when the model was measured (NaN if none)
    rows: int
    test: str
    statistic: float
    p_value: float
    degraded: bool
    summary: str  # one line: what was measured and what the test says
    metrics: dict[str, float] = field(default_factory=dict)  # further live metrics


@dataclass(frozen=True)
class Verdicts:
    """Both verdicts of one check, the status they make, and why."""

    drift: str
    performance: str
    drift_report: DriftReport | None
    drift_reason: str  # why drift was unjudged, else ""
    live: LiveCheck | None
    performance_reason: str  # why performance was unjudged, else ""

    @property
    def status(self) -> str:
        return status_of(self.drift, self.performance)

    def reason(self) -> str:
        """The status in one line."""
        parts = []
        report = self.drift_report
        if report is not None:
            drifted = report.drifted_features
            parts.append(
                f"drift: {len(drifted)} of {report.tested} features drifted ({report.rule}"
                + (f": {', '.join(drifted[:6])}" if drifted else "")
                + ")"
                + (f"; {report.small}" if report.small else "")
            )
        else:
            parts.append(f"drift cannot be judged: {self.drift_reason}")
        if self.live is not None:
            parts.append(self.live.summary)
        elif self.performance == UNJUDGED:
            parts.append(f"live performance cannot be judged: {self.performance_reason}")
        else:
            parts.append("no truth given: live performance not checked")
        return "; ".join(parts)


def status_of(drift: str, performance: str) -> str:
    """The worse verdict: degraded, else drift, else ok; unjudged when neither was judged."""
    if performance == DEGRADED:
        return DEGRADED
    if drift == DRIFT:
        return DRIFT
    if drift == UNJUDGED and performance in (UNJUDGED, NO_TRUTH):
        return UNJUDGED
    return OK


def alarm(fail_on: str, verdicts: Verdicts) -> str | None:
    """Why the step must exit non-zero under ``fail_on``, or None."""
    status = verdicts.status
    if fail_on == NONE:
        return None
    if status == DEGRADED:
        return f"status degraded reaches fail_on={fail_on}"
    if fail_on == DRIFT and verdicts.drift == DRIFT:
        return "status drift reaches fail_on=drift"
    if fail_on == DRIFT and verdicts.drift == UNJUDGED:
        return f"drift cannot be judged ({verdicts.drift_reason}), so fail_on=drift fails closed"
    if fail_on == DEGRADED and verdicts.performance == UNJUDGED:
        return (
            f"live performance cannot be judged ({verdicts.performance_reason}), so "
            f"fail_on=degraded fails closed"
        )
    return None


def metrics_of(verdicts: Verdicts) -> dict[str, float]:
    """The check's metrics: overall and per feature (``drift/<feature>/p_value``,
    ``.../adjusted_p_value``, ``.../effect``, ``.../statistic``), and the live ones."""
    metrics: dict[str, float] = {}
    report = verdicts.drift_report
    if report is not None:
        metrics["drift_share"] = report.share
        metrics["drifted_features"] = float(len(report.drifted_features))
        metrics["drift_detected"] = float(report.drifted)
        for feature in report.features:
            if math.isnan(feature.p_value):
                continue
            metrics[f"drift/{feature.name}/p_value"] = feature.p_value
            metrics[f"drift/{feature.name}/adjusted_p_value"] = feature.adjusted_p_value
            metrics[f"drift/{feature.name}/effect"] = feature.effect
            metrics[f"drift/{feature.name}/statistic"] = feature.statistic
    live = verdicts.live
    if live is not None:
        metrics[live.metric] = live.value
        metrics["live_rows"] = float(live.rows)
        metrics["live_p_value"] = live.p_value
        metrics.update(live.metrics)
    return {key: value for key, value in metrics.items() if math.isfinite(value)}


def report_dict(verdicts: Verdicts, header: dict[str, str]) -> dict[str, object]:
    """The report as plain data (``monitor/report.json``)."""
    report = verdicts.drift_report
    live = verdicts.live
    return {
        **header,
        "status": verdicts.status,
        "drift": verdicts.drift,
        "performance": verdicts.performance,
        "reason": verdicts.reason(),
        "drift_report": None
        if report is None
        else {
            "alpha": report.alpha,
            "rule": report.rule,
            "effect_floor": report.effect_floor,
            "rows": report.rows,
            "small_batch": report.small,
            "drift_share_threshold": report.drift_share,
            "share": report.share,
            "drifted_features": list(report.drifted_features),
            "features": [
                {
                    "name": f.name,
                    "test": f.test,
                    "statistic": None if math.isnan(f.statistic) else f.statistic,
                    "p_value": None if math.isnan(f.p_value) else f.p_value,
                    "adjusted_p_value": None
                    if math.isnan(f.adjusted_p_value)
                    else f.adjusted_p_value,
                    "effect": None if math.isnan(f.effect) else f.effect,
                    "effect_name": f.effect_name,
                    "drifted": f.drifted,
                    "note": f.note,
                }
                for f in report.features
            ],
        },
        "live": None
        if live is None
        else {
            "metric": live.metric,
            "value": live.value,
            "reference": None if math.isnan(live.reference) else live.reference,
            "rows": live.rows,
            "test": live.test,
            "statistic": None if math.isnan(live.statistic) else live.statistic,
            "p_value": live.p_value,
            "degraded": live.degraded,
            "summary": live.summary,
            "metrics": live.metrics,
        },
    }


def report_json(verdicts: Verdicts, header: dict[str, str]) -> str:
    return json.dumps(report_dict(verdicts, header), indent=2, sort_keys=True)


def report_html(verdicts: Verdicts, header: dict[str, str]) -> str:
    """The report as one HTML page (``monitor/report.html``): the header, the status and
    its reason, the per-feature tests and the live check."""
    escape = html.escape
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>" for key, value in header.items()
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>monitor report</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}"
        ".drifted{color:#b00;font-weight:bold}</style></head><body>",
        f"<h1>Status: {escape(verdicts.status)}</h1><p>{escape(verdicts.reason())}</p>",
        f"<table>{rows}</table>",
    ]
    report = verdicts.drift_report
    if report is not None:
        parts.append(
            f"<h2>Drift ({escape(report.rule)})</h2>"
            + (f"<p>{escape(report.small)}</p>" if report.small else "")
            + "<table><tr><th>feature</th><th>test</th><th>statistic</th><th>p-value</th>"
            "<th>Holm-adjusted p</th><th>effect</th><th>drifted</th><th>note</th></tr>"
        )
        for f in report.features:
            statistic = "-" if math.isnan(f.statistic) else f"{f.statistic:.4g}"
            p_value = "-" if math.isnan(f.p_value) else format_p(f.p_value)
            adjusted = "-" if math.isnan(f.adjusted_p_value) else format_p(f.adjusted_p_value)
            effect = "-" if math.isnan(f.effect) else f"{f.effect:.3g} ({f.effect_name})"
            css = " class='drifted'" if f.drifted else ""
            parts.append(
                f"<tr{css}><td>{escape(f.name)}</td><td>{escape(f.test)}</td><td>{statistic}"
                f"</td><td>{p_value}</td><td>{adjusted}</td><td>{escape(effect)}</td>"
                f"<td>{'yes' if f.drifted else 'no'}</td><td>{escape(f.note)}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append(f"<h2>Drift</h2><p>cannot be judged: {escape(verdicts.drift_reason)}</p>")
    live = verdicts.live
    if live is not None:
        parts.append(f"<h2>Live performance</h2><p>{escape(live.summary)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)

# Generated from lifecycle/monitor/params.py by python -m lifecycle.sync; edit the source.
"""The ``monitor`` entry point's parameters, declared once. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.errors import ParameterError
from lifecycle.monitor.verdicts import ALARM_EXIT_CODE, DATE_PATTERN, DEGRADED, FAIL_ON, NONE
from lifecycle.params import LOCATION, VERSION_URIS, Declared, EntryPoint, param

EARLIEST_BATCH_DATE = "1970-01-01"


@dataclass(frozen=True, kw_only=True)
class MonitorParams(Declared):
    """The ``monitor`` entry point's parameters; the model URI's default is the
    project's champion."""

    input: str = param(
        help="the batch to check: a table the model would score, or a score output",
        nonempty=True,
        allowed=LOCATION,
    )
    model_uri: str = param(
        help="the model version to monitor; an alias is resolved once, before any row is read",
        pattern=r"(models|runs):/.+",
        allowed=VERSION_URIS,
    )
    truth: str = param(
        "",
        help="the truth once known, for live performance (what it holds: the project's README)",
        allowed=f"empty: drift only; else {LOCATION}",
    )
    fail_on: str = param(
        NONE,
        help=f"the status from which the step exits {ALARM_EXIT_CODE} (drift: drift or "
        "degraded; degraded: degraded); a verdict that cannot be judged fails closed",
        choices=FAIL_ON,
    )
    alpha: float = param(
        0.05,
        help="the level of each feature's drift test and of the degradation test",
        low=0.0,
        high=0.5,
        low_open=True,
        name="monitor_alpha",
    )
    drift_share: float = param(
        0.0,
        help="0: the batch drifts when any feature drifts after Holm's correction (drift "
        "raised on a batch like the training inputs with probability at most monitor_alpha); "
        "above 0: Evidently's rule, the share of tested features that must drift",
        low=0.0,
        high=1.0,
    )
    batch_date: str = param(
        "",
        help="the batch's date: the timestamp of its metrics",
        pattern=DATE_PATTERN,
        allowed=f"YYYY-MM-DD from {EARLIEST_BATCH_DATE} to a week ahead; empty: the batch's own "
        "last date where it has one, else today",
    )

    def check(self) -> None:
        if self.batch_date:
            _check_batch_date(self.batch_date)
        if self.fail_on == DEGRADED and not self.truth.strip():
            raise ParameterError(
                "fail_on",
                self.fail_on,
                "needs truth: without it live performance cannot be judged",
                options=("fail_on", "truth"),
            )


def _check_batch_date(text: str) -> None:
    """A batch date must be a real calendar day a metric can be timestamped with: from
    1970-01-01 (MLflow's timestamps count milliseconds from then) to a week ahead."""
    import datetime

    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise ParameterError("batch_date", text, "is not a calendar day (YYYY-MM-DD)") from None
    latest = datetime.date.today() + datetime.timedelta(days=7)
    if not datetime.date.fromisoformat(EARLIEST_BATCH_DATE) <= day <= latest:
        raise ParameterError(
            "batch_date", text, f"must lie between {EARLIEST_BATCH_DATE} and {latest.isoformat()}"
        )


def monitor_entry_point(project: str) -> EntryPoint:
    """The ``monitor`` entry point of ``project``."""
    return EntryPoint(
        command="monitor",
        help="Check a batch against the model version's training inputs (drift) and, "
        "with the truth, its live performance; record the status on the version.",
        declared=(MonitorParams,),
        defaults=(("model_uri", f"models:/{project}@champion"),),
    )

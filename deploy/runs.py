"""Finds the runs a dead client left RUNNING, and marks them FAILED.

A run stays RUNNING when the process logging it dies, or loses the tracking server,
before it can record the run's end. This command lists such runs in an experiment and,
with ``--mark-failed``, ends them as FAILED with a ``failure_reason`` tag:

    python -m deploy.runs --experiment-name team --older-than-minutes 30 --mark-failed

It talks to the tracking server named by ``MLFLOW_TRACKING_URI``, as the user in
``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``, who needs EDIT permission.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from lifecycle import contract

logger = logging.getLogger(__name__)


def interrupted_runs(client, experiment_id: str, older_than_minutes: float) -> list:
    """RUNNING runs of the experiment that started at least ``older_than_minutes`` ago."""
    cutoff_ms = int((time.time() - 60 * older_than_minutes) * 1000)
    runs = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
    )
    return [run for run in runs if run.info.start_time <= cutoff_ms]


def mark_failed(client, run, reason: str) -> None:
    """End ``run`` as FAILED, recording why."""
    client.set_tag(run.info.run_id, contract.FAILURE_REASON, reason)
    client.set_terminated(run.info.run_id, status="FAILED")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.runs", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--experiment-name", required=True)
    parser.add_argument(
        "--older-than-minutes",
        type=float,
        default=60.0,
        help="only runs started at least this long ago (default 60), so live runs are left alone",
    )
    parser.add_argument("--mark-failed", action="store_true", help="end them as FAILED")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.older_than_minutes < 0:
        logger.error("--older-than-minutes=%s must be >= 0", args.older_than_minutes)
        return 2

    import mlflow

    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(args.experiment_name)
    if experiment is None:
        logger.error(
            "no experiment named %r at %s", args.experiment_name, mlflow.get_tracking_uri()
        )
        return 1
    runs = interrupted_runs(client, experiment.experiment_id, args.older_than_minutes)
    for run in runs:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(run.info.start_time / 1000))
        entry = run.data.tags.get("mlflow.project.entryPoint", "-")
        logger.info(
            "%s  started %s UTC  entry point %s  %s",
            run.info.run_id,
            started,
            entry,
            run.info.run_name,
        )
        if args.mark_failed:
            mark_failed(
                client,
                run,
                f"interrupted: still RUNNING {args.older_than_minutes:g}+ minutes after it "
                f"started; marked FAILED by deploy.runs",
            )
    verb = "marked FAILED" if args.mark_failed else "found (add --mark-failed to end them)"
    logger.info("%d interrupted run(s) %s", len(runs), verb)
    return 0


if __name__ == "__main__":
    sys.exit(main())

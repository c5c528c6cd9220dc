"""Where a step's fixed cost goes: what ``iris score`` pays before its first row, phase by
phase, in one fresh process.

``python -m bench.startup MODEL_URI`` (run from the ``iris`` folder, against
``MLFLOW_TRACKING_URI``) does, in this order, what a score step does before its work, and
times each phase on its own: the data libraries' import, ``import mlflow``, opening the
tracking store (MLflow's SQL store module and its ORM, then one query), choosing and
marking the experiment, starting the run, resolving and downloading the model version,
then loading it as the step does (scikit-learn's import, skops's import, and
``mlflow.pyfunc.load_model``, which checks the pinned requirements against what is
installed). It prints one JSON object: the phases in order, each in seconds. The run it
starts is ended as FINISHED and named for what it is.

Each phase is timed after the ones before it, so an import shared by two phases counts
in the first; the sum is what the step pays before its work.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import Row

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]

PHASES = (
    "pandas, numpy and pyarrow imported",
    "import mlflow",
    "tracking store opened (SQL store module and ORM, one query)",
    "experiment chosen and marked",
    "run started, named and tagged",
    "model version resolved and downloaded",
    "scikit-learn imported",
    "skops imported",
    "model loaded by MLflow (flavor, signature, requirement check)",
)


def measure(model_uri: str) -> dict[str, float]:
    """Each phase of the module's list, in seconds, in this process."""
    seconds: dict[str, float] = {}
    state: dict[str, Any] = {}

    def timed(name: str, work: Callable[[], Any]) -> None:
        started = time.perf_counter()
        state[name] = work()
        seconds[name] = time.perf_counter() - started

    def data_libraries() -> None:
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401

    def mlflow_itself() -> None:
        import mlflow  # noqa: F401

    def store() -> None:
        import mlflow

        mlflow.MlflowClient().search_experiments(max_results=1)

    def experiment() -> str:
        from lifecycle.step.runs import choose_experiment

        return choose_experiment()

    def run() -> Any:
        import mlflow

        from lifecycle import contract

        active = mlflow.start_run(run_name="bench · startup")
        mlflow.set_tags(contract.step_tags("iris", "startup"))
        return active

    scratch = tempfile.TemporaryDirectory(prefix="bench-startup-")

    def model() -> str:
        import mlflow

        from lifecycle.models import resolve_version

        resolved = resolve_version(model_uri)
        return str(mlflow.artifacts.download_artifacts(resolved.uri, dst_path=scratch.name))

    def sklearn() -> None:
        import sklearn.tree  # noqa: F401

    def skops() -> None:
        import skops.io  # noqa: F401

    def load() -> None:
        from iris_workflow.scoring import IrisScorer

        IrisScorer().load(state[PHASES[5]])

    work = (data_libraries, mlflow_itself, store, experiment, run, model, sklearn, skops, load)
    with scratch:
        for name, step in zip(PHASES, work, strict=True):
            timed(name, step)
        import mlflow

        mlflow.end_run()
    return seconds


def startup_rows(
    env: dict[str, str], model_uri: str = "models:/iris@champion"
) -> tuple[list[Row], dict[str, float]]:
    """This module's program as its own process: a row per phase, then their sum beside
    what no step can avoid (``import mlflow`` and the model's own imports)."""
    from bench.measure import run_measured

    measured = run_measured(
        [sys.executable, "-m", "bench.startup", model_uri],
        env | {"PYTHONPATH": f"{REPOSITORY_ROOT}:{REPOSITORY_ROOT / 'iris'}"},
        REPOSITORY_ROOT,
    ).check("the step start-up breakdown")
    seconds: dict[str, float] = json.loads(measured.stdout.strip().splitlines()[-1])
    total = sum(seconds.values())
    unavoidable = sum(seconds[PHASES[i]] for i in (1, 6, 7))
    rows = [
        Row(figure=f"step fixed cost: {name}", value=f"{value:.2f} s")
        for name, value in seconds.items()
    ]
    rows.append(
        Row(
            figure="step fixed cost, in all (before the first row)",
            value=f"{total:.2f} s",
            ratio=f"{total / unavoidable:.2f}x",
            against=f"import mlflow, scikit-learn and skops: {unavoidable:.2f} s; process "
            f"{measured.seconds:.1f} s",
        )
    )
    return rows, seconds | {"process_seconds": measured.seconds}


def main(argv: list[str] | None = None) -> None:
    (model_uri,) = argv if argv is not None else sys.argv[1:]
    print(json.dumps(measure(model_uri)))  # noqa: T201 - the program's one output line


if __name__ == "__main__":
    main()

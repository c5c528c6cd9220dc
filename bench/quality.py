"""The collection's quality figures, as the README quotes them, from one command:

    python -m bench.quality [--projects iris,gold_prices,cities] [--tracking-uri URI]

It trains each project with its default parameters (and iris with each of its three
model kinds) through the projects' own ``train`` steps, into a temporary sqlite store
unless ``--tracking-uri`` names one, and prints a Markdown table of what the training
runs recorded: iris's held-out and repeated cross-validation accuracy, gold's backtest
MASE with its Diebold-Mariano p-value against the naive forecast, cities' relevance at
k. Nothing is registered.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
PROJECTS = ("iris", "gold_prices", "cities")
PACKAGES = {"iris": "iris_workflow", "gold_prices": "gold_workflow", "cities": "cities_workflow"}
# The range textbooks give for iris under stratified cross-validation.
IRIS_ANCHOR = (0.95, 0.97)

logger = logging.getLogger("bench.quality")


@dataclass(frozen=True)
class Figure:
    """One quoted figure: its project, what it is, its value as text, and the run that
    recorded it."""

    project: str
    what: str
    value: str
    run_id: str


def _steps(project: str):
    folder = str(REPOSITORY_ROOT / project)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(f"{PACKAGES[project]}.steps")


def iris_figures() -> list[Figure]:
    """Held-out and repeated-CV accuracy of each iris model kind, defaults otherwise."""
    steps = _steps("iris")
    from iris_workflow import core, data
    from iris_workflow.params import MODEL_KINDS, TrainParams

    table = data.read_iris_csv(data.resolve_data_path(data.DEFAULT_DATA_PATH))
    _, heldout = core.split_frame(table, TrainParams().test_size)
    figures = []
    for kind in MODEL_KINDS:
        params = TrainParams(model=kind)
        trained = steps.train(params)
        metrics = trained.metrics
        anchor = _versus_anchor(metrics["repeated_cv_accuracy"])

        figures.append(
            Figure(
                "iris",
                f"{kind}: accuracy on the {len(heldout)} held-out flowers (one split)",
                f"{metrics['test_accuracy']:.4f}",
                trained.run_id,
            )
        )
        figures.append(
            Figure(
                "iris",
                f"{kind}: {params.cv_repeats} x {params.cv_folds}-fold stratified CV accuracy, "
                f"all 150 flowers ({anchor})",
                f"{metrics['repeated_cv_accuracy']:.4f} ± {metrics['repeated_cv_accuracy_sd']:.4f}",
                trained.run_id,
            )
        )
    return figures


def _versus_anchor(accuracy: float) -> str:
    low, high = IRIS_ANCHOR
    if accuracy < low:
        return f"below the textbook {low:.2f}-{high:.2f}"
    if accuracy > high:
        return f"above the textbook {low:.2f}-{high:.2f}"
    return f"within the textbook {low:.2f}-{high:.2f}"


def gold_figures() -> list[Figure]:
    """Backtest MASE of the default forecaster and its DM test against naive."""
    import mlflow

    from lifecycle.register.rule import format_value
    from lifecycle.significance import format_p

    trained = _steps("gold_prices").train()
    metrics = trained.metrics
    recorded = mlflow.MlflowClient().get_run(trained.run_id).data
    days = f"{int(recorded.metrics['backtest_rows']):,}"
    horizon = recorded.params["horizon"]
    return [
        Figure(
            "gold_prices",
            f"backtest MASE over {days} walk-forward days, horizon {horizon} "
            f"(below 1 beats the naive forecast)",
            format_value(metrics["backtest_mase"]),
            trained.run_id,
        ),
        Figure(
            "gold_prices",
            "Diebold-Mariano (HLN) against naive: one-sided p for better",
            format_p(metrics["dm_vs_naive_p_value"]),
            trained.run_id,
        ),
    ]


def cities_figures() -> list[Figure]:
    """Relevance at k and constraint satisfaction over the evaluation profiles."""
    trained = _steps("cities").train()
    metrics = trained.metrics
    return [
        Figure(
            "cities",
            "relevance at k, mean over the 9 evaluation profiles (1 = every slot a perfect fit)",
            f"{metrics['eval_relevance_at_k']:.4f}",
            trained.run_id,
        ),
        Figure(
            "cities",
            "recommendations within budget and region",
            f"{metrics['eval_constraint_satisfaction']:.2%}",
            trained.run_id,
        ),
    ]


MEASURES = {"iris": iris_figures, "gold_prices": gold_figures, "cities": cities_figures}


def table(figures: list[Figure]) -> str:
    """The figures as a Markdown table."""
    lines = ["| project | figure | value |", "|---|---|---|"]
    lines += [f"| {f.project} | {f.what} | {f.value} |" for f in figures]
    return "\n".join(lines) + "\n"


def measure(projects: list[str]) -> list[Figure]:
    """Train each project into the current tracking store and collect its figures."""
    figures: list[Figure] = []
    for project in projects:
        logger.info("training %s", project)
        figures += MEASURES[project]()
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", default=",".join(PROJECTS))
    parser.add_argument("--tracking-uri", default="")
    options = parser.parse_args(argv)
    projects = [name.strip() for name in options.projects.split(",") if name.strip()]
    unknown = [name for name in projects if name not in MEASURES]
    if unknown:
        parser.error(f"unknown project(s) {', '.join(unknown)}; choose from {', '.join(PROJECTS)}")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import mlflow

    from lifecycle.step.store import prepare_tracking_store

    with tempfile.TemporaryDirectory(prefix="quality-") as scratch:
        uri = options.tracking_uri or f"sqlite:///{scratch}/mlflow.db"
        mlflow.set_tracking_uri(uri)
        prepare_tracking_store(uri)
        if not options.tracking_uri:
            experiment = mlflow.create_experiment("quality", artifact_location=f"{scratch}/mlruns")
            mlflow.set_experiment(experiment_id=experiment)
        sys.stdout.write(table(measure(projects)))


if __name__ == "__main__":
    main()

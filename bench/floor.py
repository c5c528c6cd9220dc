"""The in-process floor: the same train -> evaluate -> register steps as the orchestrator
runs, for the same projects, called one after another inside this one Python process,
so imports and the tracking store are set up once.

``python -m bench.floor --projects iris,gold_prices,cities``; logs into the store named
by ``MLFLOW_TRACKING_URI`` and prints one line per step. It calls each project's step
functions (``<pkg>/steps.py``) with their defaults, exactly as the commands do.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"iris": "iris_workflow", "gold_prices": "gold_workflow", "cities": "cities_workflow"}

logger = logging.getLogger("bench.floor")


def run_project(project: str) -> None:
    """Train, evaluate and register ``project`` with its default parameters."""
    sys.path.insert(0, str(REPOSITORY_ROOT / project))
    steps = importlib.import_module(f"{PACKAGES[project]}.steps")
    trained = steps.train()
    logger.info("%s train: run_id=%s", project, trained.run_id)
    evaluated = steps.evaluate(trained.model_uri)
    logger.info("%s evaluate: run_id=%s", project, evaluated.run_id)
    registered = steps.register(trained.model_uri)
    logger.info("%s register: run_id=%s version=%s", project, registered.run_id, registered.version)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", default=",".join(PACKAGES))
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from lifecycle.step.store import prepare_tracking_store

    prepare_tracking_store()
    for project in options.projects.split(","):
        run_project(project)


if __name__ == "__main__":
    main()

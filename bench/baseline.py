"""The step-per-process baseline, the pattern of MLflow's ``multistep_workflow`` example:
one parent run, and each step of each project run in turn by its own synchronous
``mlflow.run`` call, handing the training run's model URI forward. No concurrency and
no cache.

``python -m bench.baseline --projects iris,gold_prices,cities``
"""

from __future__ import annotations

import argparse
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", default="iris,gold_prices,cities")
    options = parser.parse_args(argv)

    import mlflow

    with mlflow.start_run():
        for project in options.projects.split(","):
            directory = str(REPOSITORY_ROOT / project)
            train = mlflow.projects.run(directory, "train", env_manager="local")
            model_uri = f"runs:/{train.run_id}/model"
            for step in ("evaluate", "register"):
                mlflow.projects.run(
                    directory, step, parameters={"model_uri": model_uri}, env_manager="local"
                )


if __name__ == "__main__":
    main()

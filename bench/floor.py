"""The in-process floor: the same train -> evaluate -> register steps as the orchestrator
runs, for the same projects, called one after another inside this one Python process,
so imports and the tracking store are set up once.

``python -m bench.floor --projects iris,gold_prices,cities``; logs into the store named
by ``MLFLOW_TRACKING_URI`` and prints one line per step.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"iris": "iris_workflow", "gold_prices": "gold_workflow", "cities": "cities_workflow"}
_RUN_ID = re.compile(r"run_id=([0-9a-f]{32})")


def run_step(command: object, args: list[str]) -> str:
    from click.testing import CliRunner

    result = CliRunner().invoke(command, args, catch_exceptions=False)
    if result.exit_code != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {result.output}")
    sys.stdout.write(result.output)
    return _RUN_ID.search(result.output).group(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", default=",".join(PACKAGES))
    options = parser.parse_args(argv)
    for project in options.projects.split(","):
        sys.path.insert(0, str(REPOSITORY_ROOT / project))
        cli = importlib.import_module(f"{PACKAGES[project]}.cli").cli
        train_id = run_step(cli, ["train"])
        model_uri = f"runs:/{train_id}/model"
        run_step(cli, ["evaluate", "--model-uri", model_uri])
        run_step(cli, ["register", "--model-uri", model_uri])


if __name__ == "__main__":
    main()

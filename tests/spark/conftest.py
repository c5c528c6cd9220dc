"""Fixtures for the Spark tests: one local Spark session (2 cores, UI off, bound to
127.0.0.1) shared by the module, and a tracking store holding a champion of each project."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import Store


@pytest.fixture(scope="module")
def spark_session() -> Iterator[object]:
    """The module's Spark session, ``local[2]``; stopped after the module."""
    from lifecycle.spark import session as spark

    session = spark.session("local[2]", "tests")
    yield session
    session.stop()


@dataclass(frozen=True)
class Champions:
    """A store where iris, gold_prices and cities each have version 1 as champion."""

    store: Store
    versions: dict[str, int]


@pytest.fixture(scope="module")
def champions(
    tmp_path_factory: pytest.TempPathFactory, template_db: Path, datasets_mirror: Path
) -> Iterator[Champions]:
    import mlflow

    from cities_workflow import steps as cities_steps
    from gold_workflow import core as gold_core
    from gold_workflow import steps as gold_steps
    from iris_workflow import steps as iris_steps

    root = tmp_path_factory.mktemp("champions")
    db = root / "mlflow.db"
    shutil.copyfile(template_db, db)
    uri = f"sqlite:///{db}"
    experiment_id = mlflow.MlflowClient(tracking_uri=uri).create_experiment(
        "tests", artifact_location=(root / "artifacts").as_uri()
    )
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith("MLFLOW_"):
                patch.delenv(key)
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv("MLFLOW_EXPERIMENT_NAME", "tests")
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        mlflow.set_tracking_uri(uri)
        versions = {}
        trained = {
            "iris": iris_steps.train(),
            "gold_prices": gold_steps.train(
                gold_core.TrainParams(refit_every=252), datasets_mirror=str(datasets_mirror)
            ),
            "cities": cities_steps.train(datasets_mirror=str(datasets_mirror)),
        }
        for project, step in (
            ("iris", iris_steps),
            ("gold_prices", gold_steps),
            ("cities", cities_steps),
        ):
            result = step.register(trained[project].model_uri)
            assert result.version is not None, result
            versions[project] = int(result.version)
        yield Champions(Store(uri, "tests", experiment_id, root), versions)
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)

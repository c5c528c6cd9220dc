"""The score step (every project) and the tune step (iris, gold) on a real Spark
standalone cluster: a master and a worker, each its own process started with pyspark's
``spark-class`` on 127.0.0.1 (``deploy.spark_cluster``), whose Python has the packages
but none of the project's files on its path. Each result equals the local engine's.

What this proves: the kit, the project's package and the model reach the executors by
themselves (no shared checkout, no PYTHONPATH), and the jobs give the local results.
What a multi-host cluster adds, and this cannot show: the same Python environment on
every worker host, and outputs on storage every host reaches (S3, or a shared mount).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from deploy.spark_cluster import standalone_cluster
from lifecycle.io import manifests
from tests.helpers import REPO_ROOT, client_for, run_cli
from tests.spark.conftest import Champions
from tests.spark.test_score_spark import run_score, sorted_rows, write_input

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The master URL of a standalone cluster, stopped by PID after the module."""
    with standalone_cluster(tmp_path_factory.mktemp("cluster"), cores=2, memory="3g") as url:
        yield url


@pytest.fixture(scope="module")
def cluster_session(cluster: str) -> Iterator[object]:
    """This process's Spark session, on the cluster."""
    from pyspark.sql import SparkSession

    from lifecycle.spark import session as spark

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    session = spark.session(cluster, "tests-cluster")
    yield session
    session.stop()


def test_mlflow_run_iris_score_on_the_cluster(
    champions: Champions, cluster: str, tmp_path: Path
) -> None:
    """As a user meets it: ``mlflow run iris -e score -P engine=spark -P spark_master=…``
    in a process of its own (its own driver), against the cluster. It runs first: a
    standalone master gives the worker's cores to the first application that asks."""
    source = write_input("iris", tmp_path / "in", Path())
    by_pandas = run_score(champions, "iris", source, tmp_path / "pandas")
    result = run_cli(
        [
            *("mlflow", "run", "iris", "-e", "score", "--env-manager", "local"),
            *("-P", f"input={source}", "-P", f"output={tmp_path / 'cluster'}"),
            *("-P", "engine=spark", "-P", f"spark_master={cluster}"),
        ],
        champions.store,
        REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert "rows_in=3000 rows_scored=3000" in result.stdout
    run_id = re.search(r"run_id=([0-9a-f]{32})", result.stdout).group(1)
    assert client_for(champions.store).get_run(run_id).info.status == "FINISHED"
    pd.testing.assert_frame_equal(
        sorted_rows(manifests.read_output(str(tmp_path / "cluster"))),
        sorted_rows(manifests.read_output(by_pandas.output)),
    )


def test_the_executors_have_none_of_the_projects_files_but_what_the_job_ships(
    cluster_session,
) -> None:
    from lifecycle.spark import session as spark

    spark.ship_packages(cluster_session, "iris_workflow")  # type: ignore[arg-type]

    def where(_: object) -> tuple[list[str], str, str]:
        import importlib
        import os
        import sys

        origin = os.path.realpath(importlib.import_module("iris_workflow").__file__ or "")
        return [os.path.realpath(entry) for entry in sys.path], os.getcwd(), origin

    context = cluster_session.sparkContext  # type: ignore[attr-defined]
    ((paths, cwd, origin),) = context.parallelize([0], 1).map(where).collect()
    checkouts = {REPO_ROOT, *(REPO_ROOT / name for name in ("iris", "gold_prices", "cities"))}
    assert not checkouts & {Path(entry) for entry in [*paths, cwd]}, (paths, cwd)
    assert origin.startswith(cwd)
    assert "iris_workflow.zip" in origin


@pytest.mark.parametrize("project", ["gold_prices", "cities"])
def test_score_on_the_cluster_equals_the_pandas_engine(
    project: str,
    champions: Champions,
    cluster: str,
    cluster_session,
    tmp_path: Path,
    datasets_mirror: Path,
) -> None:
    source = write_input(project, tmp_path / "in", datasets_mirror)
    by_pandas = run_score(champions, project, source, tmp_path / "pandas")
    on_cluster = run_score(
        champions, project, source, tmp_path / "cluster", engine="spark", spark_master=cluster
    )
    pandas_table = manifests.read_output(by_pandas.output)
    cluster_table = manifests.read_output(on_cluster.output)
    assert cluster_table.schema.equals(pandas_table.schema)
    pd.testing.assert_frame_equal(sorted_rows(cluster_table), sorted_rows(pandas_table))
    assert on_cluster.outcome.rows_in == by_pandas.outcome.rows_in


def test_tuning_on_the_cluster_equals_the_local_engine(
    champions: Champions, cluster: str, cluster_session, datasets_mirror: Path
) -> None:
    from gold_workflow import search, steps
    from gold_workflow.params import TrainParams
    from iris_workflow import core, tuning

    frame = pd.read_csv(REPO_ROOT / "datasets" / "iris.csv")
    train, test = core.split_frame(frame, 0.3, 42)
    grid = tuning.TuneParams(max_leaf_nodes_grid="2,3,5", max_depth_grid="1,3", cv_folds=3)
    local = tuning.score_grid(grid, train, test)
    assert tuning.score_grid(replace(grid, engine="spark", spark_master=cluster), train, test) == (
        local
    )

    space = search.SearchSpace(
        base=TrainParams(refit_every=252),
        models=("linear_regression", "ridge"),
        alphas=(0.1, 1000.0),
        n_estimators=(100,),
        learning_rates=(0.1,),
        max_depths=(3,),
    )
    results = {
        engine: steps.tune(
            search.TuneJob(space=space, trials=3, engine=engine, spark_master=cluster),
            datasets_mirror=str(datasets_mirror),
        )
        for engine in ("local", "spark")
    }
    assert results["spark"].best == results["local"].best
    run = client_for(champions.store).get_run(results["spark"].run_id)
    assert run.data.params["spark_master"] == cluster

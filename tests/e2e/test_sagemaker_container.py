"""The HTTP contract of the serving container SageMaker runs, tested for real without
Docker or AWS.

The image ``mlflow sagemaker build-and-push-container`` pushes starts
``mlflow.models.container._serve(env_manager)``, which serves the model SageMaker
unpacks into ``/opt/ml/model``. Here that same entry point runs as a local process, with
three differences, all set from outside MLflow's code: the model directory and the port
are a temporary folder and a free port (the container module's ``MODEL_PATH`` and
``DEFAULT_INFERENCE_SERVER_PORT``), nginx is off (``DISABLE_NGINX=true``; in the image
it listens on 8080 and proxies to the server), and the model's dependencies come from
this environment (``MLFLOW_DISABLE_ENV_CREATION=true``) instead of a virtualenv made at
start. What SageMaker itself does (health checks, instance routing) is not exercised.

The answers are compared with ``mlflow models serve`` on the same registered version.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from deploy import processes
from iris_workflow.cli import cli as iris_cli
from tests.helpers import open_store, served_model

pytestmark = pytest.mark.e2e

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [7.7, 3.0, 6.1, 2.3], [5.0, 3.4, 1.5, 0.2]]
EXPECTED = ["setosa", "versicolor", "virginica", "setosa"]
LAUNCH = (
    "import sys; import mlflow.models.container as C; "
    "C.MODEL_PATH = sys.argv[1]; C.DEFAULT_INFERENCE_SERVER_PORT = int(sys.argv[2]); "
    "C._serve('local')"
)


def as_csv(rows: list[list[float]], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory, template_db: Path
) -> Iterator[dict[str, str]]:
    """The SageMaker container entry point and ``mlflow models serve``, both serving the
    iris champion (version 1) of one store; both stopped by their PIDs."""
    import mlflow

    root = tmp_path_factory.mktemp("sagemaker-container")
    monkeypatch = pytest.MonkeyPatch()
    try:
        store = open_store(root, template_db, monkeypatch)
        trained = CliRunner().invoke(iris_cli, ["train"], catch_exceptions=False)
        run_id = re.search(r"run_id=([0-9a-f]{32})", trained.output).group(1)
        registered = CliRunner().invoke(
            iris_cli, ["register", "--model-uri", f"runs:/{run_id}/model"]
        )
        assert "becomes champion" in registered.output, registered.output
        # What SageMaker unpacks into /opt/ml/model: the registered version's directory.
        model_dir = Path(
            mlflow.artifacts.download_artifacts(
                "models:/iris/1", dst_path=str(root / "opt-ml-model")
            )
        )
        port = processes.free_port()
        env = store.env(
            DISABLE_NGINX="true", MLFLOW_DISABLE_ENV_CREATION="true", MLFLOW_MODELS_WORKERS="1"
        )
        container = processes.ServerProcess(
            [sys.executable, "-c", LAUNCH, str(model_dir), str(port)],
            env=env,
            cwd=root,
            log=root / "container.log",
        )
        try:
            container.wait_http(f"http://127.0.0.1:{port}/ping", 120, "serving container")
            with served_model(store.env(), "models:/iris@champion", root) as serve:
                yield {"container": f"http://127.0.0.1:{port}", "serve": serve}
        finally:
            container.stop()
    finally:
        monkeypatch.undo()
        mlflow.set_tracking_uri(None)


def invoke(base: str, body: str, content_type: str) -> requests.Response:
    return requests.post(
        f"{base}/invocations", data=body, headers={"Content-Type": content_type}, timeout=30
    )


def test_container_entry_point_ping_answers_200(servers: dict[str, str]) -> None:
    response = requests.get(f"{servers['container']}/ping", timeout=10)
    assert response.status_code == 200


def test_container_entry_point_answers_json_and_csv_as_mlflow_models_serve_does(
    servers: dict[str, str],
) -> None:
    """JSON is scored by both alike. CSV is refused by both alike with a 400: the served
    model's signature names its fields without a type (so MLflow hands JSON values over
    as sent and the shared row checks refuse a ``true``), and MLflow 3.17's CSV parser
    needs typed columns. Never a 200 with made-up values."""
    import json

    body = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": ROWS}})
    answers = {name: invoke(base, body, "application/json") for name, base in servers.items()}
    for name, response in answers.items():
        assert response.status_code == 200, (name, response.text)
    assert answers["container"].json() == answers["serve"].json() == {"predictions": EXPECTED}
    for header in (True, False):
        for name, base in servers.items():
            response = invoke(base, as_csv(ROWS, header=header), "text/csv")
            assert response.status_code == 400, (name, response.text)
            assert "Failed to parse input as a Pandas DataFrame" in response.text, name
    flag = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[True, 3.5, 1.4, 0.2]]}})
    for name, base in servers.items():
        response = invoke(base, flag, "application/json")
        assert response.status_code == 400, (name, response.text)
        assert "row 0: sepal_length True is not a number" in response.text, name

"""End-to-end: ``mlflow models serve -m models:/iris@champion`` answers the three
``/invocations`` payload formats over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from iris_workflow.cli import cli
from tests.helpers import Store, served_model

pytestmark = pytest.mark.e2e

COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [7.7, 3.0, 6.1, 2.3]]
EXPECTED = {"predictions": ["setosa", "versicolor", "virginica"]}
PAYLOADS = {
    "dataframe_split": {"dataframe_split": {"columns": COLUMNS, "data": ROWS}},
    "dataframe_records": {
        "dataframe_records": [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    },
    "inputs": {"inputs": {column: [row[i] for row in ROWS] for i, column in enumerate(COLUMNS)}},
}


def register_a_champion() -> None:
    output = CliRunner().invoke(cli, ["train"], catch_exceptions=False).output
    run_id = re.search(r"run_id=([0-9a-f]{32})", output).group(1)
    result = CliRunner().invoke(cli, ["register", "--model-uri", f"runs:/{run_id}/model"])
    assert "becomes champion" in result.output, result.output


@pytest.fixture
def served_champion(store: Store, tmp_path: Path):
    register_a_champion()
    with served_model(store.env(), "models:/iris@champion", tmp_path) as base:
        yield base


def test_invocations_accept_all_three_payload_formats(served_champion: str) -> None:
    for name, payload in PAYLOADS.items():
        response = requests.post(f"{served_champion}/invocations", json=payload, timeout=30)
        assert response.status_code == 200, (name, response.text)
        assert response.json() == EXPECTED, name


def test_a_request_missing_a_column_is_a_client_error(served_champion: str) -> None:
    payload = {"dataframe_split": {"columns": COLUMNS[:3], "data": [row[:3] for row in ROWS]}}
    response = requests.post(f"{served_champion}/invocations", json=payload, timeout=30)
    assert 400 <= response.status_code < 500
    assert "petal_width" in response.text

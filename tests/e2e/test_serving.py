"""End-to-end: ``mlflow models serve -m models:/iris@champion`` answers the three
``/invocations`` payload formats over HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from iris_workflow.cli import cli
from tests.helpers import (
    Store,
    assert_serves_its_golden_set,
    assert_too_deep_json_is_a_400,
    served_model,
)

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


def test_invocations_accept_all_three_payload_formats(served_champion: str, store: Store) -> None:
    assert_serves_its_golden_set(store, "iris", served_champion)
    for name, payload in PAYLOADS.items():
        response = requests.post(f"{served_champion}/invocations", json=payload, timeout=30)
        assert response.status_code == 200, (name, response.text)
        assert response.json() == EXPECTED, name


def test_a_request_missing_a_column_is_a_client_error(served_champion: str) -> None:
    payload = {"dataframe_split": {"columns": COLUMNS[:3], "data": [row[:3] for row in ROWS]}}
    response = requests.post(f"{served_champion}/invocations", json=payload, timeout=30)
    assert 400 <= response.status_code < 500
    assert "petal_width" in response.text


def post_raw(base: str, body: str, content_type: str | None = "application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(f"{base}/invocations", data=body, headers=headers, timeout=30)


# The same reasons ``score`` gives these rows (one set of row checks, lifecycle.score.rows).
BAD_CELLS = [
    ("NaN", "row 1: petal_width is missing"),
    ("Infinity", "row 1: petal_width must be a finite number"),
    ("-Infinity", "row 1: petal_width must be a finite number"),
    ("null", "row 1: petal_width is missing"),
    ("1e39", "row 1: petal_width"),  # beyond float32
    ("1e300", "row 1: petal_width"),
    ("-0.5", "row 1: petal_width is -0.5, outside the plausible range"),
    ('"wide"', "row 1: petal_width 'wide' is not a number"),
    ("true", "row 1: petal_width True is not a number"),
    ("[1.5]", "row 1: petal_width of type list is not a number"),
    ('"2024-05-01"', "row 1: petal_width '2024-05-01' is not a number"),  # a date, in JSON
    ("1" + "0" * 400, "row 1: petal_width must be a finite number, got inf"),  # beyond float64
]


def assert_no_trace_or_path(text: str) -> None:
    assert "Traceback" not in text
    assert "stack_trace" not in text
    assert ".py" not in text
    for path_part in ("/tmp/", "/work/", "site-packages"):
        assert path_part not in text


def test_what_it_cannot_score_is_a_400_naming_field_and_row(served_champion: str) -> None:
    """One served model, every kind of bad request: a NaN, an infinity (also the non-JSON
    ``Infinity``), a null, a value beyond float32 or implausible, a string, a ragged row.
    Never a 200 with a made-up class, never a traceback or a path."""
    for cell, fragment in BAD_CELLS:
        rows = "[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, " + cell + "]"
        body = (
            '{"dataframe_split": {"columns": ' + json.dumps(COLUMNS) + ', "data": [' + rows + "]}}"
        )
        response = post_raw(served_champion, body)
        assert response.status_code == 400, (cell, response.text)
        message = response.json()["message"]
        assert fragment in message, (cell, message)
        assert_no_trace_or_path(response.text)
    ragged = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [ROWS[0], ROWS[1][:3]]}})
    response = post_raw(served_champion, ragged)
    assert response.status_code == 400, response.text
    assert_no_trace_or_path(response.text)

    # What MLflow 3.17's scoring server itself does, which our model cannot change (docs/serving.md:
    # Serving): a refusal's message is prefixed with the request data as MLflow prints it,
    # and a request without a Content-Type is a 500.
    body = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, -1]]}})
    refused = post_raw(served_champion, body)
    assert refused.status_code == 400
    assert refused.json()["message"].startswith("Failed to predict data '")
    no_type = post_raw(served_champion, body, content_type=None)
    assert no_type.status_code == 500
    # Nor does it limit the body: 100,000 rows (about 2 MB) are read and scored whole.
    rows = [ROWS[0]] * 100_000
    big = json.dumps({"dataframe_split": {"columns": COLUMNS, "data": rows}})
    assert len(big) > 2_000_000
    answered = post_raw(served_champion, big)
    assert answered.status_code == 200
    assert len(answered.json()["predictions"]) == 100_000
    # A body nested too deeply for the parser: our guard's 400, not MLflow's 500.
    assert_too_deep_json_is_a_400(f"{served_champion}/invocations")

"""A step's one-line failure message names the tracking server, and says plainly when
the artifact store is what failed."""

from __future__ import annotations

import pytest

from lifecycle.step.failures import is_artifact_store_outage, tracking_failure_message

ARTIFACT_500 = (
    "API request to http://127.0.0.1:5500/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/"
    "model/MLmodel failed with exception HTTPConnectionPool(host='127.0.0.1', port=5500): "
    "Max retries exceeded with url: ... (Caused by ResponseError('too many 500 error responses'))"
)


@pytest.mark.parametrize(
    "text",
    [
        ARTIFACT_500,
        "API request to http://h/api/2.0/mlflow-artifacts/artifacts/x failed: Connection refused",
        'Could not connect to the endpoint URL: "http://127.0.0.1:9/mlflow/x" (S3 upload)',
    ],
)
def test_an_artifact_store_outage_is_recognised(text: str) -> None:
    assert is_artifact_store_outage(text)


@pytest.mark.parametrize(
    "text",
    [
        "API request to /api/2.0/mlflow/runs/create failed: Connection refused",
        "RESOURCE_DOES_NOT_EXIST: Run 'abc' not found",
        "API request to http://h/api/2.0/mlflow-artifacts/artifacts/x failed: 403 Forbidden",
    ],
)
def test_other_failures_are_not_blamed_on_the_artifact_store(text: str) -> None:
    assert not is_artifact_store_outage(text)


def test_the_message_is_one_line_naming_server_and_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    message = tracking_failure_message(RuntimeError(ARTIFACT_500 + "\n  more\n"))
    assert message.startswith(
        "MLflow tracking at http://127.0.0.1:5000 failed: the artifact store is unreachable"
    )
    assert "\n" not in message
    assert len(message) < 600
    plain = tracking_failure_message(RuntimeError("RESOURCE_DOES_NOT_EXIST: no such run"))
    assert (
        plain
        == "MLflow tracking at http://127.0.0.1:5000 failed: RESOURCE_DOES_NOT_EXIST: no such run"
    )


def test_an_error_quoting_its_data_does_not_paste_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    rows = "\n".join(f"{i} 5.1 3.5 1.4 0.2 setosa" for i in range(1000))
    message = tracking_failure_message(RuntimeError(f"Failed to enforce schema of data '{rows}'"))
    assert len(message) < 400
    assert message.endswith("…")
    assert "999 5.1" not in message

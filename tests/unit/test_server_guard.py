"""The team servers' request guard refuses caller-chosen artifact locations and model
version sources outside the server, and lets ordinary requests through."""

from __future__ import annotations

import json

import pytest

from deploy.server_guard import refusal


def body(**fields: object) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    "location", ["file:///etc", "s3://another-bucket/x", "mlflow-artifacts:/1", "/tmp/x"]
)
@pytest.mark.parametrize("prefix", ["/api/2.0", "/ajax-api/2.0"])
def test_an_experiment_with_an_artifact_location_is_refused(prefix: str, location: str) -> None:
    reason = refusal(
        "POST", f"{prefix}/mlflow/experiments/create", body(name="e", artifact_location=location)
    )
    assert reason is not None
    assert "artifact_location" in reason
    assert location in reason


def test_an_experiment_without_a_location_passes() -> None:
    assert refusal("POST", "/api/2.0/mlflow/experiments/create", body(name="e")) is None
    assert (
        refusal("POST", "/api/2.0/mlflow/experiments/create", body(name="e", artifact_location=""))
        is None
    )


@pytest.mark.parametrize("payload", [b"not json", b"[1, 2]"])
def test_an_unreadable_create_body_is_refused(payload: bytes) -> None:
    assert "not a JSON object" in refusal("POST", "/api/2.0/mlflow/experiments/create", payload)
    assert "not a JSON object" in refusal("POST", "/api/2.0/mlflow/model-versions/create", payload)


@pytest.mark.parametrize(
    "source",
    [
        "s3://mlflow/artifacts/1/abc/artifacts/model",
        "file:///etc",
        "/etc/passwd",
        "http://127.0.0.1:9/api/2.0/mlflow-artifacts/artifacts/1",
        "gs://bucket/x",
        "mlflow-artifacts://evil.example:80/1/abc/artifacts",
    ],
)
def test_a_model_version_from_outside_the_server_is_refused(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_DEFAULT_ARTIFACT_ROOT", "mlflow-artifacts://127.0.0.1:5500/")
    reason = refusal("POST", "/api/2.0/mlflow/model-versions/create", body(name="m", source=source))
    assert reason is not None
    assert "source" in reason


@pytest.mark.parametrize(
    "source",
    [
        "models:/m-0123456789abcdef",
        "runs:/0123/model",
        "mlflow-artifacts:/1/abc/artifacts/model",
        "mlflow-artifacts://127.0.0.1:5500/1/abc/artifacts/model",
    ],
)
def test_a_model_version_from_the_server_passes(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_DEFAULT_ARTIFACT_ROOT", "mlflow-artifacts://127.0.0.1:5500/")
    assert (
        refusal("POST", "/api/2.0/mlflow/model-versions/create", body(name="m", source=source))
        is None
    )


def test_other_requests_pass() -> None:
    assert refusal("GET", "/api/2.0/mlflow/experiments/create", b"") is None
    assert refusal("POST", "/api/2.0/mlflow/runs/create", body(experiment_id="1")) is None
    # An artifact whose path merely ends like the route is not the route.
    path = "/api/2.0/mlflow-artifacts/mpu/create/1/r/artifacts/mlflow/experiments/create"
    assert refusal("POST", path, body(artifact_location="x")) is None

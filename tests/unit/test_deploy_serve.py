"""The deployment's pure parts: MLflow's webhook signature, the proxy's request log read
per version, the golden set compared exactly, the proxy's configuration, and the
controller's registry reads (backoff when the server is gone, webhooks coalesced)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploy.serve import traffic, webhook
from deploy.serve.controller import MAX_BACKOFF_SECONDS, Controller, Settings
from deploy.serve.proxy import Limits, Server, config
from lifecycle.register import golden

SECRET = "s3cret"
BODY = json.dumps(
    {
        "entity": "model_version_alias",
        "action": "created",
        "timestamp": "2026-12-08T00:00:00+00:00",
        "data": {"name": "iris", "alias": "champion", "version": "7"},
    }
).encode()


def mlflow_signature(delivery_id: str, timestamp: str, body: bytes) -> str:
    """As mlflow/webhooks/delivery.py signs (written out here, not imported from it)."""
    signed = f"{delivery_id}.{timestamp}.{body.decode()}".encode()
    digest = hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(delivery: str = "d-1", timestamp: int = 1_000_000, body: bytes = BODY) -> dict:
    return {
        "X-MLflow-Delivery-Id": delivery,
        "X-MLflow-Timestamp": str(timestamp),
        "X-MLflow-Signature": mlflow_signature(delivery, str(timestamp), body),
    }


def test_a_delivery_signed_as_mlflow_signs_is_accepted_and_read() -> None:
    delivery = webhook.verify(SECRET, headers(), BODY, now=1_000_010)
    assert (delivery.model, delivery.alias, delivery.version) == ("iris", "champion", "7")
    assert (delivery.entity, delivery.action) == ("model_version_alias", "created")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-MLflow-Signature": "v1,AAAA"}, "does not match"),
        ({"X-MLflow-Timestamp": "1000005"}, "does not match"),  # signed for another time
        ({"X-MLflow-Delivery-Id": "d-2"}, "does not match"),
        ({"X-MLflow-Signature": ""}, "without its id, timestamp or signature"),
        ({"X-MLflow-Timestamp": "soon"}, "not a whole number"),
    ],
)
def test_a_forged_or_incomplete_delivery_is_refused(change: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        webhook.verify(SECRET, {**headers(), **change}, BODY, now=1_000_010)


def test_a_stale_or_future_delivery_is_refused_even_when_signed() -> None:
    with pytest.raises(ValueError, match="s old"):
        webhook.verify(SECRET, headers(timestamp=1_000_000), BODY, now=1_000_301)
    with pytest.raises(ValueError, match="s old"):
        webhook.verify(SECRET, headers(timestamp=1_000_400), BODY, now=1_000_000)
    with pytest.raises(ValueError, match="does not match"):
        webhook.verify(SECRET, headers(), BODY + b" ", now=1_000_000)


def test_the_proxy_log_is_read_per_version_with_its_5xx_rate_and_p99() -> None:
    assert traffic.parse("v3 200 12") == ("3", 200, 12.0)
    assert traffic.parse("<NOSRV> 415 0") is None
    assert traffic.parse("[NOTICE] (1) : haproxy started") is None
    seen = traffic.Traffic()
    seen.follow([f"v3 200 {ms}\n" for ms in range(1, 100)] + ["v3 503 500\n", "v4 200 1\n"])
    window = seen.window("3", since=0.0)
    assert (window.requests, window.errors) == (100, 1)
    assert window.p99_ms == 99.0
    assert window.error_rate == pytest.approx(0.01)
    assert seen.window("5", since=0.0).requests == 0
    assert traffic.p99([]) is None


def test_golden_requests_come_in_both_table_formats() -> None:
    example = {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3, 4]]}}
    assert golden.requests_of(example) == [
        example,
        {"dataframe_records": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]},
    ]


def test_golden_answers_must_be_exactly_equal() -> None:
    cases = [{"request": {}, "answer": {"predictions": [1.0, "setosa", [0.5, 0.25]]}}]
    assert golden.mismatches(cases, [{"predictions": [1.0, "setosa", [0.5, 0.25]]}]) == []
    for other in ([1.0000001, "setosa", [0.5, 0.25]], [1, "setosa", [0.5, 0.25]], [1.0]):
        assert golden.mismatches(cases, [{"predictions": other}]), other
    assert golden.same(float("nan"), float("nan"))


def test_a_golden_set_that_is_not_one_is_refused_with_a_reason() -> None:
    good = {"format": golden.FORMAT_VERSION, "cases": [{"request": {}, "answer": {}}]}
    assert golden.parse(json.dumps(good)) == good["cases"]
    for text, reason in [
        ("{", "not JSON"),
        (json.dumps({"format": 99, "cases": []}), "not of format"),
        (json.dumps({"format": golden.FORMAT_VERSION, "cases": []}), "no cases"),
        (json.dumps({"format": golden.FORMAT_VERSION, "cases": [{"request": {}}]}), "lacks"),
    ]:
        with pytest.raises(golden.GoldenSetError, match=reason):
            golden.parse(text)


def test_the_proxy_configuration_holds_the_deployment_rules(tmp_path: Path) -> None:
    text = config(8000, 8001, tmp_path, Limits(max_body_bytes=1000), [Server("3", 9000, 100)])
    assert "bind 127.0.0.1:8000" in text
    assert "return status 415" in text
    assert "gt 1000 }" in text  # the body cap
    assert "server v3 127.0.0.1:9000 weight 100" in text
    assert "server control 127.0.0.1:8001" in text
    assert "X-Model-Version" in text


class FakeProxy:
    pid = None
    port = 0

    def alive(self) -> bool:
        return True


class GoneError(Exception):
    pass


def controller(client: object) -> Controller:
    return Controller(Settings("iris", poll_seconds=15), FakeProxy(), client, Path("."), {})  # type: ignore[arg-type]


def test_a_tracking_server_that_is_gone_is_retried_with_a_doubling_wait() -> None:
    def gone(*_: object) -> None:
        raise GoneError("connection refused")

    deployment = controller(SimpleNamespace(get_model_version_by_alias=gone))
    waits = []
    for _ in range(9):
        assert deployment._read_alias() == (False, None)
        waits.append(deployment._backoff)
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0]
    assert waits[-1] == MAX_BACKOFF_SECONDS
    assert "cannot be read (connection refused)" in deployment.status.reason
    assert "nothing to serve yet" in deployment.status.reason


def test_a_flood_of_webhooks_costs_one_registry_read() -> None:
    reads = []

    def read(name: str, alias: str) -> SimpleNamespace:
        reads.append(name)
        return SimpleNamespace(version="7")

    deployment = controller(SimpleNamespace(get_model_version_by_alias=read))
    deployment._next_poll = float("inf")
    for _ in range(1000):
        deployment.nudge(SimpleNamespace(model="iris"))
    deployment.nudge(SimpleNamespace(model="another-model"))
    assert deployment._due() == "webhook"
    assert deployment._due() is None
    assert deployment._read_alias() == (True, "7")
    assert len(reads) == 1

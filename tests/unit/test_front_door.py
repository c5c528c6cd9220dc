"""deploy.front_door: the path routing of the AWS load balancer, for the loopback stack.

Unit checks of the routing rule and of the HAProxy configuration that encodes it, and
the rule compared with the Terraform listener rule (static). HAProxy forwarding real
requests is tested in tests/deploy/test_front_door_haproxy.py."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest

from deploy import front_door

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/2.0/mlflow-artifacts/artifacts/1/run/artifacts/model/MLmodel", "artifacts"),
        ("/ajax-api/2.0/mlflow-artifacts/artifacts", "artifacts"),
        ("/api/2.0/mlflow-artifacts/mpu/create/1/x", "artifacts"),
        ("/api/2.0/mlflow/runs/create", "tracking"),
        ("/ajax-api/2.0/mlflow/experiments/get-by-name", "tracking"),
        ("/health", "tracking"),
        ("/", "tracking"),
        ("/api/2.0/mlflow-artifactsX/", "tracking"),
    ],
)
def test_route(path: str, expected: str) -> None:
    assert front_door.route(path) == expected


def test_the_configuration_routes_by_the_same_prefixes_and_sets_the_forwarded_headers() -> None:
    text = front_door.config(
        "127.0.0.1", 8080, {"tracking": ("127.0.0.1", 5000), "artifacts": ("127.0.0.1", 5500)}
    )
    rule = f"use_backend artifacts if {{ path_beg {' '.join(front_door.ARTIFACT_PATH_PREFIXES)} }}"
    assert rule in text
    assert "default_backend tracking" in text
    # What the client sent is dropped before the proxy sets its own.
    assert text.index("del-header X-Forwarded-For") < text.index("option forwardfor")
    assert "set-header X-Forwarded-Port 8080" in text
    assert "server tracking 127.0.0.1:5000" in text
    assert "server artifacts 127.0.0.1:5500" in text
    assert "the artifacts server is unreachable" in text


def test_static_the_prefixes_are_the_terraform_listener_rule() -> None:
    with (ROOT / "deploy/aws/self-hosted/load_balancer.tf").open() as handle:
        parsed = hcl2.load(handle)
    (rule,) = [
        body
        for block in parsed["resource"]
        for kind, named in block.items()
        if kind.strip('"') == "aws_lb_listener_rule"
        for body in named.values()
    ]
    patterns = [value.strip('"') for value in rule["condition"][0]["path_pattern"][0]["values"]]
    assert patterns == [prefix + "*" for prefix in front_door.ARTIFACT_PATH_PREFIXES]

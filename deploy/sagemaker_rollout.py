"""How ``python -m deploy.sagemaker deploy`` updates an existing endpoint: SageMaker's
blue/green update with canary traffic, a baking period and automatic rollback on two
CloudWatch alarms it creates for the endpoint, the same policy ``deploy.serve`` follows
on one machine.

- **Canary.** ``canary_percent`` of the new fleet's capacity takes traffic first, for
  ``canary_wait_seconds``; then all of it (``ALL_AT_ONCE`` when the percentage is 100).
- **Bake.** The old fleet stays up ``bake_seconds`` after the switch
  (``TerminationWaitInSeconds``), so a rollback is instant.
- **Rollback.** An alarm on the endpoint's ``Invocation5XXErrors`` (sum per minute at
  or above ``max_5xx_per_minute``) or its ``ModelLatency`` p99 (over ``max_p99_ms``), in
  alarm during the canary or the bake, makes SageMaker send all traffic back to the old
  fleet (``AutoRollbackConfiguration``).

The alarms watch the endpoint's production variant by name, so the update keeps the
variant's name. Pure functions: the calls are made by ``deploy.sagemaker``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NAMESPACE = "AWS/SageMaker"
MARGIN_SECONDS = 600  # for the new fleet to start, beyond the canary wait and the bake


@dataclass(frozen=True)
class RolloutPolicy:
    canary_percent: int = 10
    canary_wait_seconds: int = 300
    bake_seconds: int = 600
    max_5xx_per_minute: int = 1
    max_p99_ms: float = 500.0

    def seconds_needed(self) -> int:
        """At least this long for the whole update (what ``--timeout-seconds`` must give)."""
        wait = self.canary_wait_seconds if self.canary_percent < 100 else 0
        return wait + self.bake_seconds + MARGIN_SECONDS


def alarm_names(endpoint: str) -> list[str]:
    return [f"{endpoint}-lifecycle-5xx", f"{endpoint}-lifecycle-p99-latency"]


def alarms(endpoint: str, variant: str, policy: RolloutPolicy) -> list[dict[str, Any]]:
    """The ``PutMetricAlarm`` requests for the endpoint's two rollback alarms."""
    dimensions = [
        {"Name": "EndpointName", "Value": endpoint},
        {"Name": "VariantName", "Value": variant},
    ]
    errors, latency = alarm_names(endpoint)
    common = {
        "Namespace": NAMESPACE,
        "Dimensions": dimensions,
        "Period": 60,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
    }
    return [
        {
            "AlarmName": errors,
            "AlarmDescription": f"{endpoint}: 5xx answers; rolls a blue/green update back",
            "MetricName": "Invocation5XXErrors",
            "Statistic": "Sum",
            "Threshold": float(policy.max_5xx_per_minute),
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            **common,
        },
        {
            "AlarmName": latency,
            "AlarmDescription": f"{endpoint}: p99 model latency; rolls a blue/green update back",
            "MetricName": "ModelLatency",  # in microseconds
            "ExtendedStatistic": "p99",
            "Threshold": policy.max_p99_ms * 1000.0,
            "ComparisonOperator": "GreaterThanThreshold",
            **common,
        },
    ]


def deployment_config(endpoint: str, policy: RolloutPolicy, timeout_seconds: int) -> dict[str, Any]:
    """The ``DeploymentConfig`` of the ``UpdateEndpoint`` call."""
    if policy.canary_percent >= 100:
        routing: dict[str, Any] = {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}
    else:
        routing = {
            "Type": "CANARY",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": policy.canary_percent},
            "WaitIntervalInSeconds": policy.canary_wait_seconds,
        }
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": policy.bake_seconds,
            "MaximumExecutionTimeoutInSeconds": timeout_seconds,
        },
        "AutoRollbackConfiguration": {
            "Alarms": [{"AlarmName": name} for name in alarm_names(endpoint)]
        },
    }


def variant_of(endpoint_description: dict[str, Any]) -> str | None:
    """The name of the endpoint's (first) production variant, when it reports one."""
    variants = endpoint_description.get("ProductionVariants") or []
    return str(variants[0]["VariantName"]) if variants else None

"""``python -m deploy.sagemaker``: deploying the iris champion to a SageMaker endpoint.

What these tests prove, and what they cannot:
- ``test_moto_*``: the wiring, against moto (an AWS emulator) in server mode on
  127.0.0.1. MLflow's own SageMaker target makes the calls; moto checks their shapes
  and keeps the state that is asserted (models, endpoint configurations, endpoints,
  tags, S3 objects). No real SageMaker ran: nothing here shows that a real endpoint
  starts or answers.
- ``test_stubbed_client_*``: the update path. moto has no ``UpdateEndpoint``, so the
  SageMaker client is a botocore ``Stubber`` that expects the exact call sequence,
  the blue/green ``DeploymentConfig`` included; S3, STS and CloudWatch (the rollback
  alarms) still go to moto. Only AWS can show that the canary takes its share, that the
  alarms fire on a real endpoint's metrics and that SageMaker then rolls back: here a
  rollback is SageMaker's answer as the Stubber gives it.
- The serving container's HTTP contract is tested for real, without AWS, in
  ``tests/e2e/test_sagemaker_container.py``.
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from deploy import processes
from deploy import sagemaker as deploy_sagemaker
from deploy.sagemaker_rollout import RolloutPolicy, deployment_config
from iris_workflow.cli import cli as iris_cli
from tests.helpers import Store, client_for

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
ROLE = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlflow-pyfunc:3.17.2"
MODEL_BUCKET = f"mlflow-sagemaker-{REGION}-{ACCOUNT}"


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto in server mode on a free loopback port, stopped by its PID."""
    import sys

    port = processes.free_port()
    log_dir = tmp_path_factory.mktemp("moto")
    server = processes.ServerProcess(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=None,
        cwd=log_dir,
        log=log_dir / "moto.log",
    )
    try:
        server.wait_http(f"http://127.0.0.1:{port}/moto-api/", 60, "moto server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every boto3 client in this process talks to a freshly reset moto; MLflow's
    serving image repository exists, as after ``mlflow sagemaker build-and-push-container``."""
    import boto3

    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.client("ecr", region_name=REGION).create_repository(repositoryName="mlflow-pyfunc")
    return boto3


def train_and_register() -> str:
    trained = CliRunner().invoke(iris_cli, ["train"], catch_exceptions=False)
    run_id = re.search(r"run_id=([0-9a-f]{32})", trained.output).group(1)
    registered = CliRunner().invoke(iris_cli, ["register", "--model-uri", f"runs:/{run_id}/model"])
    assert "becomes champion" in registered.output, registered.output
    return run_id


@pytest.fixture
def champion(store: Store) -> str:
    """An iris champion, version 1, in the test's sqlite store."""
    train_and_register()
    return "models:/iris@champion"


def run(*args: str) -> Result:
    return CliRunner().invoke(deploy_sagemaker.cli, list(args))


def deploy_args(endpoint: str = "iris", *extra: str) -> list[str]:
    return [
        "deploy",
        "--model-uri",
        "models:/iris@champion",
        "--endpoint",
        endpoint,
        "--region",
        REGION,
        "--execution-role-arn",
        ROLE,
        *extra,
    ]


def everything(aws: Any) -> dict[str, list[str]]:
    sagemaker = aws.client("sagemaker", region_name=REGION)
    s3 = aws.client("s3", region_name=REGION)
    buckets = [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]
    return {
        "models": [m["ModelName"] for m in sagemaker.list_models()["Models"]],
        "configs": [
            c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
        ],
        "endpoints": [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]],
        "objects": [
            f"{bucket}/{item['Key']}"
            for bucket in buckets
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        ],
    }


def test_moto_deploy_creates_model_config_and_endpoint_for_the_resolved_version(
    aws: Any, champion: str, tmp_path: Path
) -> None:
    result = run(*deploy_args("iris", "--instance-type", "ml.m5.xlarge"))
    assert result.exit_code == 0, result.output
    assert f"iris ({REGION}) created: serving iris version 1" in result.output

    sagemaker = aws.client("sagemaker", region_name=REGION)
    endpoint = sagemaker.describe_endpoint(EndpointName="iris")
    assert endpoint["EndpointStatus"] == "InService"
    config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    (variant,) = config["ProductionVariants"]
    assert variant["InstanceType"] == "ml.m5.xlarge"
    assert variant["InitialInstanceCount"] == 1
    model = sagemaker.describe_model(ModelName=variant["ModelName"])
    container = model["PrimaryContainer"]
    assert container["Image"] == IMAGE
    assert model["ExecutionRoleArn"] == ROLE
    assert container["ModelDataUrl"].startswith(f"s3://{MODEL_BUCKET}/iris-model-")

    tags = deploy_sagemaker.tags_of(sagemaker, endpoint["EndpointArn"])
    assert tags[deploy_sagemaker.TAG_MODEL_NAME] == "iris"
    assert tags[deploy_sagemaker.TAG_MODEL_VERSION] == "1"
    assert tags[deploy_sagemaker.TAG_SOURCE_URI] == "models:/iris@champion"
    model_tags = deploy_sagemaker.tags_of(sagemaker, model["ModelArn"])
    assert model_tags["model_uri"] == "models:/iris/1"  # the fixed version, not the alias

    # The model data is the registered version's model directory.
    bucket, key = container["ModelDataUrl"].removeprefix("s3://").split("/", 1)
    archive = tmp_path / "model.tar.gz"
    aws.client("s3", region_name=REGION).download_file(bucket, key, str(archive))
    with tarfile.open(archive) as tar:
        assert "MLmodel" in tar.getnames()

    status = run("status", "--endpoint", "iris", "--region", REGION)
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert report["status"] == "InService"
    assert (report["model_name"], report["model_version"]) == ("iris", "1")

    again = run(*deploy_args("iris"))
    assert again.exit_code == 0, again.output
    assert "already serves iris version 1" in again.output
    assert len(everything(aws)["models"]) == 1


def test_moto_delete_removes_endpoint_config_model_and_model_data(aws: Any, champion: str) -> None:
    assert run(*deploy_args("iris")).exit_code == 0
    before = everything(aws)
    assert [len(before[kind]) for kind in ("models", "configs", "endpoints", "objects")] == [
        1,
        1,
        1,
        1,
    ]

    result = run("delete", "--endpoint", "iris", "--region", REGION)
    assert result.exit_code == 0, result.output
    assert everything(aws) == {"models": [], "configs": [], "endpoints": [], "objects": []}

    missing = run("delete", "--endpoint", "iris", "--region", REGION)
    assert missing.exit_code == 1
    assert f"there is no endpoint 'iris' in {REGION}" in missing.output
    status = run("status", "--endpoint", "iris", "--region", REGION)
    assert status.exit_code == 1
    assert "there is no endpoint 'iris'" in status.output


def test_moto_a_failed_create_leaves_nothing_behind(aws: Any, champion: str) -> None:
    # A well-formed instance type SageMaker does not offer: the model and its data are
    # created, then the endpoint configuration is refused.
    result = run(*deploy_args("iris", "--instance-type", "ml.m5.huge"))
    assert result.exit_code == 1
    assert "ml.m5.huge" in result.output
    assert everything(aws) == {"models": [], "configs": [], "endpoints": [], "objects": []}


def test_moto_dry_run_prints_the_calls_and_changes_nothing(aws: Any, champion: str) -> None:
    result = run(*deploy_args("iris", "--dry-run"))
    assert result.exit_code == 0, result.output
    assert "dry run, nothing changed. To create iris" in result.stdout
    assert "Created" not in result.output  # MLflow's own log would say so otherwise
    calls = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    operations = [line.split(" ", 1)[0] for line in calls]
    assert operations == [
        "s3.CreateBucket",
        "s3.PutObject",
        "s3.PutObjectTagging",
        "sagemaker.CreateModel",
        "sagemaker.CreateEndpointConfig",
        "sagemaker.CreateEndpoint",
    ]
    create_model = json.loads(calls[3].split(" ", 1)[1])
    assert create_model["PrimaryContainer"]["Image"] == IMAGE
    assert create_model["ExecutionRoleArn"] == ROLE
    config = json.loads(calls[4].split(" ", 1)[1])
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.large"
    endpoint = json.loads(calls[5].split(" ", 1)[1])
    assert {"Key": "lifecycle.model_version", "Value": "1"} in endpoint["Tags"]
    s3 = aws.client("s3", region_name=REGION)
    assert s3.list_buckets()["Buckets"] == []
    assert everything(aws) == {"models": [], "configs": [], "endpoints": [], "objects": []}


def move_the_champion(store: Store) -> str:
    """Register a second iris version and point the champion alias at it."""
    import mlflow

    trained = CliRunner().invoke(iris_cli, ["train"], catch_exceptions=False)
    run_id = re.search(r"run_id=([0-9a-f]{32})", trained.output).group(1)
    version = str(mlflow.register_model(f"runs:/{run_id}/model", "iris").version)
    client_for(store).set_registered_model_alias("iris", "champion", version)
    return version


def test_moto_dry_run_of_a_redeploy_shows_an_update_in_place(
    aws: Any, champion: str, store: Store
) -> None:
    assert run(*deploy_args("iris")).exit_code == 0
    before = everything(aws)
    assert move_the_champion(store) == "2"

    result = run(*deploy_args("iris", "--dry-run"))
    assert result.exit_code == 0, result.output
    assert "dry run, nothing changed. To update iris" in result.stdout
    calls = [
        line.strip()
        for line in result.stdout.splitlines()
        if line.startswith(("  s3.", "  sagemaker.", "  cloudwatch."))
    ]
    operations = [line.split(" ", 1)[0] for line in calls]
    assert operations == [
        "cloudwatch.PutMetricAlarm",
        "cloudwatch.PutMetricAlarm",
        "s3.PutObject",
        "s3.PutObjectTagging",
        "sagemaker.CreateModel",
        "sagemaker.CreateEndpointConfig",
        "sagemaker.UpdateEndpoint",
        "sagemaker.AddTags",
    ]
    update = json.loads(calls[-2].split(" ", 1)[1])
    policy = update["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    assert policy["TerminationWaitInSeconds"] == 600
    assert update["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": "iris-lifecycle-5xx"},
        {"AlarmName": "iris-lifecycle-p99-latency"},
    ]
    add_tags = json.loads(calls[-1].split(" ", 1)[1])
    assert {"Key": "lifecycle.model_version", "Value": "2"} in add_tags["Tags"]
    assert "then, once the endpoint is InService" in result.stdout
    assert everything(aws) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", REGION], "--execution-role-arn is required"),
        (["--region", REGION, "--execution-role-arn", "sagemaker-role"], "is not an IAM role ARN"),
        (["--execution-role-arn", ROLE], "--region is required"),
        (["--region", "Ireland", "--execution-role-arn", ROLE], "is not an AWS region name"),
    ],
)
def test_a_missing_or_malformed_role_or_region_is_refused_before_any_call(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    # No AWS endpoint and no tracking store is set: a call would fail differently.
    result = run("deploy", "--model-uri", "models:/iris@champion", "--endpoint", "iris", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_a_model_uri_that_names_no_registered_version_is_refused() -> None:
    result = run(
        *[arg if arg != "models:/iris@champion" else "runs:/abc/model" for arg in deploy_args()]
    )
    assert result.exit_code == 1
    assert "must name a registered model version" in result.output


def test_moto_a_missing_alias_or_serving_image_is_a_clear_error(aws: Any, store: Store) -> None:
    result = run(*deploy_args("iris"))
    assert result.exit_code == 1
    assert "no version of registered model 'iris' has the alias 'champion'" in result.output

    train_and_register()
    aws.client("ecr", region_name=REGION).delete_repository(repositoryName="mlflow-pyfunc")
    result = run(*deploy_args("iris"))
    assert result.exit_code == 1
    assert "mlflow sagemaker build-and-push-container" in result.output
    assert everything(aws)["models"] == []


class FakeClock:
    """Stands in for MLflow's ``time`` module while it waits for the endpoint."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


OLD = {"config": "iris-config-old", "model": "iris-model-old"}
NEW = {"config": "iris-config-new", "model": "iris-model-new"}
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/iris"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
NEW_TAGS = {
    "ResourceArn": ENDPOINT_ARN,
    "Tags": [
        {"Key": "lifecycle.model_name", "Value": "iris"},
        {"Key": "lifecycle.model_version", "Value": "2"},
        {"Key": "lifecycle.source_model_uri", "Value": "models:/iris@champion"},
    ],
}


def described_endpoint(config: str) -> dict[str, Any]:
    return {
        "EndpointName": "iris",
        "EndpointArn": ENDPOINT_ARN,
        "EndpointConfigName": config,
        "EndpointStatus": "InService",
        "ProductionVariants": [{"VariantName": OLD["model"]}],
        "CreationTime": WHEN,
        "LastModifiedTime": WHEN,
    }


def stub_update_until_the_switch(stub: Any, live: str = NEW["config"]) -> None:
    """MLflow's update sequence, as SageMaker answers it, up to the endpoint InService on
    ``live`` (the new configuration, or the old one after a rollback) and the old model
    being looked up for deletion."""
    from botocore.stub import ANY

    stub.add_response(
        "describe_endpoint", described_endpoint(OLD["config"]), {"EndpointName": "iris"}
    )
    stub.add_response(
        "list_tags",
        {
            "Tags": [
                {"Key": "lifecycle.model_name", "Value": "iris"},
                {"Key": "lifecycle.model_version", "Value": "1"},
            ]
        },
        {"ResourceArn": ENDPOINT_ARN},
    )
    listed = {k: v for k, v in described_endpoint(OLD["config"]).items()}
    del listed["EndpointConfigName"], listed["ProductionVariants"]
    stub.add_response(
        "list_endpoints", {"Endpoints": [listed]}, {"MaxResults": 100, "NameContains": "iris"}
    )
    stub.add_response(
        "describe_endpoint", described_endpoint(OLD["config"]), {"EndpointName": "iris"}
    )
    stub.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": OLD["config"],
            "EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/old",
            "ProductionVariants": [{"VariantName": OLD["model"], "ModelName": OLD["model"]}],
            "CreationTime": WHEN,
        },
        {"EndpointConfigName": OLD["config"]},
    )
    stub.add_response(
        "create_model",
        {"ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{NEW['model']}"},
        {
            "ModelName": NEW["model"],
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": ANY, "Environment": ANY},
            "ExecutionRoleArn": ROLE,
            "Tags": ANY,
        },
    )
    stub.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint-config/new"},
        {
            "EndpointConfigName": NEW["config"],
            "ProductionVariants": [
                {
                    # The variant keeps its name: the rollback alarms watch it.
                    "VariantName": OLD["model"],
                    "ModelName": NEW["model"],
                    "InitialVariantWeight": 1,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
            "Tags": ANY,
        },
    )
    stub.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": "iris",
            "EndpointConfigName": NEW["config"],
            "DeploymentConfig": deployment_config("iris", RolloutPolicy(), 2400),
        },
    )
    # InService again: on the new configuration, or after a rollback on the old one.
    stub.add_response("describe_endpoint", described_endpoint(live), {"EndpointName": "iris"})
    if live != NEW["config"]:
        return  # MLflow sees the rollback, and fails the update
    # Then MLflow looks up the previous version to remove it.
    stub.add_response(
        "describe_model",
        {
            "ModelName": OLD["model"],
            "ModelArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{OLD['model']}",
            "PrimaryContainer": {"ModelDataUrl": f"s3://{MODEL_BUCKET}/old/model.tar.gz"},
            "CreationTime": WHEN,
        },
        {"ModelName": OLD["model"]},
    )


@pytest.fixture
def stubbed_sagemaker(aws: Any, store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """An endpoint serving iris version 1 while the champion has moved to version 2; every
    SageMaker call goes to a botocore Stubber (S3 and STS still go to moto)."""
    import mlflow.sagemaker
    from botocore.stub import Stubber

    train_and_register()
    move_the_champion(store)
    monkeypatch.setattr(mlflow.sagemaker, "_get_sagemaker_model_name", lambda **_: NEW["model"])
    monkeypatch.setattr(mlflow.sagemaker, "_get_sagemaker_config_name", lambda *_: NEW["config"])
    monkeypatch.setattr(mlflow.sagemaker, "time", FakeClock())
    real_client = aws.client
    sagemaker = real_client("sagemaker", region_name=REGION)

    def client(service: str, *args: Any, **kwargs: Any) -> Any:
        return sagemaker if service == "sagemaker" else real_client(service, *args, **kwargs)

    monkeypatch.setattr(aws, "client", client)
    with Stubber(sagemaker) as stub:
        yield stub


def test_stubbed_client_redeploy_after_the_champion_moves_updates_in_place(
    stubbed_sagemaker: Any,
) -> None:
    """moto has no UpdateEndpoint: the Stubber expects MLflow's update sequence exactly,
    so a DeleteEndpoint anywhere would fail the test."""
    stub = stubbed_sagemaker
    stub_update_until_the_switch(stub)
    stub.add_response("delete_model", {}, {"ModelName": OLD["model"]})
    stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": OLD["config"]})
    stub.add_response("add_tags", {"Tags": []}, NEW_TAGS)

    result = run(*deploy_args("iris"))
    assert result.exit_code == 0, result.output
    stub.assert_no_pending_responses()
    assert f"iris ({REGION}) updated: serving iris version 2" in result.output


def test_stubbed_client_a_failed_tidy_up_after_the_switch_keeps_what_the_endpoint_uses(
    stubbed_sagemaker: Any,
) -> None:
    """The endpoint already runs on the new model when deleting the old one is refused:
    nothing new is removed (the Stubber would refuse any DeleteModel of it), the tags
    follow the version served, and the command fails saying what is left."""
    stub = stubbed_sagemaker
    stub_update_until_the_switch(stub)
    stub.add_client_error(
        "delete_model", service_error_code="AccessDeniedException", http_status_code=400
    )
    stub.add_response(
        "describe_endpoint", described_endpoint(NEW["config"]), {"EndpointName": "iris"}
    )
    stub.add_response("add_tags", {"Tags": []}, NEW_TAGS)

    result = run(*deploy_args("iris"))
    assert result.exit_code == 1
    stub.assert_no_pending_responses()
    assert "iris now serves iris version 2, but the tidy-up after the switch failed" in (
        result.output
    )


def test_stubbed_client_an_update_sagemaker_rolls_back_keeps_what_the_endpoint_runs_on(
    stubbed_sagemaker: Any, aws: Any
) -> None:
    """An alarm fired during the canary or the bake, and SageMaker put the endpoint back
    on the old configuration: the old model and configuration are not deleted (the
    Stubber would refuse any such call), the new ones are, the endpoint's tags still name
    the old version, and the command fails saying so. The two alarms exist (in moto)."""
    stub = stubbed_sagemaker
    stub_update_until_the_switch(stub, live=OLD["config"])
    stub.add_response("delete_endpoint_config", {}, {"EndpointConfigName": NEW["config"]})
    stub.add_response("delete_model", {}, {"ModelName": NEW["model"]})

    result = run(*deploy_args("iris"))
    assert result.exit_code == 1, result.output
    assert "SageMaker rolled the update back" in result.output, result.output
    stub.assert_no_pending_responses()
    assert "iris still serves iris version 1" in result.output
    alarms = aws.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
    by_name = {alarm["AlarmName"]: alarm for alarm in alarms}
    assert by_name["iris-lifecycle-5xx"]["MetricName"] == "Invocation5XXErrors"
    assert by_name["iris-lifecycle-p99-latency"]["ExtendedStatistic"] == "p99"
    dimensions = by_name["iris-lifecycle-5xx"]["Dimensions"]
    assert {"Name": "VariantName", "Value": OLD["model"]} in dimensions


def test_an_update_whose_timeout_cannot_cover_the_canary_and_bake_is_refused_first(
    stubbed_sagemaker: Any,
) -> None:
    stub = stubbed_sagemaker
    stub.add_response(
        "describe_endpoint", described_endpoint(OLD["config"]), {"EndpointName": "iris"}
    )
    stub.add_response(
        "list_tags",
        {"Tags": [{"Key": "lifecycle.model_version", "Value": "1"}]},
        {"ResourceArn": ENDPOINT_ARN},
    )
    result = run(*deploy_args("iris", "--timeout-seconds", "600"))
    assert result.exit_code == 1
    stub.assert_no_pending_responses()
    assert "shorter than the blue/green update needs" in result.output

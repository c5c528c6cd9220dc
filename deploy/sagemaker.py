"""Deploys a registered model version to a SageMaker endpoint, and reports or deletes it.

    python -m deploy.sagemaker deploy --model-uri models:/iris@champion --endpoint iris \\
        --region eu-west-1 --execution-role-arn arn:aws:iam::123456789012:role/sagemaker
    python -m deploy.sagemaker status --endpoint iris --region eu-west-1
    python -m deploy.sagemaker delete --endpoint iris --region eu-west-1

``deploy`` resolves the alias once, to a fixed version, and hands ``models:/<name>/<N>``
to MLflow's own SageMaker target (``mlflow.deployments``, target ``sagemaker``), which
uploads the model, creates a SageMaker model and endpoint configuration, and creates
the endpoint, or updates it in place when it exists. The endpoint is never deleted
first, and it is tagged with the model name and version.

An update is SageMaker's blue/green update with a ``DeploymentConfig``
(``deploy.sagemaker_rollout``): canary traffic (``--canary-percent``, held
``--canary-wait-seconds``), a baking period (``--bake-seconds``) and automatic rollback
on two CloudWatch alarms the deploy creates for the endpoint (5xx answers, p99 model
latency). When SageMaker rolls the update back, the new model and configuration are
removed, what the endpoint runs on is kept, and the deploy fails saying so.

Every AWS call the deploy makes goes through :class:`AwsCalls`:
- with ``--dry-run``, calls that would change something are printed and answered
  locally, and nothing changes (reads still go to AWS, to tell create from update);
- otherwise what it created is remembered, and removed again if the deploy fails, so a
  failed create leaves no model, endpoint configuration, endpoint or model data behind.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import click

from deploy.aws_calls import (
    AwsCall,
    AwsCalls,
    find_endpoint,
    missing_serving_image,
    quiet,
    serving_new_configuration,
    tags_of,
    undo,
)
from deploy.sagemaker_rollout import (
    RolloutPolicy,
    alarm_names,
    alarms,
    deployment_config,
    variant_of,
)

logger = logging.getLogger(__name__)

FLAVOR = "python_function"
SERVING_IMAGE = "mlflow-pyfunc"  # the ECR repository MLflow's deploy looks for
DEFAULT_INSTANCE_TYPE = "ml.m5.large"
TAG_MODEL_NAME = "lifecycle.model_name"
TAG_MODEL_VERSION = "lifecycle.model_version"
TAG_SOURCE_URI = "lifecycle.source_model_uri"

REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
ENDPOINT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")
MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")


class DeployError(click.ClickException):
    """A deploy, status or delete that cannot go on; the message says why."""


# --- Pure checks ---------------------------------------------------------------------


def check_region(region: str | None) -> str:
    if not region:
        raise DeployError(
            "--region is required (or set AWS_REGION): the AWS region of the endpoint, "
            "e.g. eu-west-1"
        )
    if not REGION.match(region):
        raise DeployError(f"--region {region!r} is not an AWS region name (e.g. eu-west-1)")
    return region


def check_role(role_arn: str | None) -> str:
    if not role_arn:
        raise DeployError(
            "--execution-role-arn is required: the IAM role SageMaker assumes to pull the "
            "serving image and read the model data (arn:aws:iam::<account>:role/<name>)"
        )
    if not ROLE_ARN.match(role_arn):
        raise DeployError(
            f"--execution-role-arn {role_arn!r} is not an IAM role ARN "
            "(arn:aws:iam::<12-digit account>:role/<name>)"
        )
    return role_arn


def check_endpoint(name: str) -> str:
    if not ENDPOINT_NAME.match(name):
        raise DeployError(
            f"--endpoint {name!r} is not a SageMaker endpoint name: up to 63 letters, "
            "digits and single hyphens, starting with a letter or digit"
        )
    return name


def check_instance_type(instance_type: str) -> str:
    if not INSTANCE_TYPE.match(instance_type):
        raise DeployError(
            f"--instance-type {instance_type!r} is not a SageMaker instance type (e.g. ml.m5.large)"
        )
    return instance_type


@dataclass(frozen=True)
class ModelRef:
    """A registered model named by alias or by version."""

    name: str
    alias: str | None
    version: str | None


def parse_model_uri(uri: str) -> ModelRef:
    match = MODEL_URI.match(uri)
    if not match:
        raise DeployError(
            f"--model-uri {uri!r} must name a registered model version: "
            "models:/<name>@<alias> or models:/<name>/<version>"
        )
    return ModelRef(match["name"], match["alias"], match["version"])


def endpoint_tags(model_name: str, version: str, source_uri: str) -> dict[str, str]:
    """The tags every endpoint this tool deploys carries."""
    return {TAG_MODEL_NAME: model_name, TAG_MODEL_VERSION: version, TAG_SOURCE_URI: source_uri}


# --- Every AWS call, seen -------------------------------------------------------------


def resolve_version(ref: ModelRef) -> str:
    """The version the alias names now (or the version given)."""
    if ref.version is not None:
        return ref.version
    assert ref.alias is not None  # parse_model_uri gives one or the other
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient().get_model_version_by_alias(ref.name, ref.alias).version)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise DeployError(
                f"no version of registered model {ref.name!r} has the alias {ref.alias!r}"
            ) from error
        raise


# --- Steps ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeployRequest:
    model_uri: str
    endpoint: str
    region: str
    execution_role_arn: str
    instance_type: str = DEFAULT_INSTANCE_TYPE
    instance_count: int = 1
    image_url: str | None = None
    bucket: str | None = None
    timeout_seconds: int = 2400
    dry_run: bool = False
    policy: RolloutPolicy = field(default_factory=RolloutPolicy)


@dataclass
class DeployOutcome:
    action: str  # "create", "update" or "unchanged"
    model_name: str
    version: str
    calls: list[AwsCall]


def deploy(request: DeployRequest) -> DeployOutcome:
    """Deploy the version ``request.model_uri`` names now; see the module docstring."""
    import boto3
    from mlflow.deployments import get_deploy_client

    ref = parse_model_uri(request.model_uri)
    version = resolve_version(ref)
    fixed_uri = f"models:/{ref.name}/{version}"
    tags = endpoint_tags(ref.name, version, request.model_uri)
    sagemaker = boto3.client("sagemaker", region_name=request.region)
    s3 = boto3.client("s3", region_name=request.region)

    existing = find_endpoint(sagemaker, request.endpoint)
    if existing is not None:
        status = existing["EndpointStatus"]
        if status != "InService":
            raise DeployError(
                f"endpoint {request.endpoint} is {status}; wait until it is InService, or "
                f"remove it with: python -m deploy.sagemaker delete --endpoint "
                f"{request.endpoint} --region {request.region}"
            )
        current = tags_of(sagemaker, existing["EndpointArn"])
        if (current.get(TAG_MODEL_NAME), current.get(TAG_MODEL_VERSION)) == (ref.name, version):
            return DeployOutcome("unchanged", ref.name, version, [])
        if request.timeout_seconds < request.policy.seconds_needed():
            raise DeployError(
                f"--timeout-seconds={request.timeout_seconds} is shorter than the blue/green "
                f"update needs (canary wait, bake and start: {request.policy.seconds_needed()} s)"
            )
        variant = variant_of(existing)
        if variant is None:
            raise DeployError(f"endpoint {request.endpoint} reports no production variant")

    config: dict[str, Any] = {
        "execution_role_arn": request.execution_role_arn,
        "instance_type": request.instance_type,
        "instance_count": request.instance_count,
        "region_name": request.region,
        "timeout_seconds": request.timeout_seconds,
        # A dry run must not wait for an endpoint that was never asked for (and MLflow
        # requires archive mode when it does not wait).
        "synchronous": not request.dry_run,
        "archive": request.dry_run,
        # MLflow adds its own keys to the dict it is given.
        "tags": dict(tags),
    }
    if request.image_url:
        config["image_url"] = request.image_url
    if request.bucket:
        config["bucket"] = request.bucket
    target = get_deploy_client(f"sagemaker:/{request.region}")

    calls = AwsCalls(dry_run=request.dry_run, region=request.region)
    try:
        # In a dry run MLflow would log "Created ..." for calls that were never sent.
        with quiet("mlflow.sagemaker", request.dry_run), calls.active():
            if existing is None:
                target.create_deployment(request.endpoint, fixed_uri, FLAVOR, config=config)
            else:
                update_blue_green(request, existing, config, calls, target, fixed_uri)
                if calls.rolled_back():  # what a later MLflow might not report as a failure
                    raise RuntimeError("SageMaker rolled the update back")
                # MLflow tags the new model and configuration, not the endpoint.
                sagemaker.add_tags(
                    ResourceArn=existing["EndpointArn"],
                    Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
                )
    except BaseException as error:
        if request.dry_run:
            raise
        if existing is not None and calls.rolled_back():
            # MLflow reports a rollback as a failed update and leaves everything in place:
            # the new model and configuration go, what the endpoint runs on stays.
            left = undo(calls.changes(), sagemaker, s3)
            kept = current.get(TAG_MODEL_VERSION, "?")
            raise DeployError(
                rolled_back(request.endpoint, ref.name, kept, version, left)
            ) from None
        serving = serving_new_configuration(sagemaker, request.endpoint, calls.changes())
        if existing is not None and serving is None:
            raise DeployError(
                f"the deploy failed ({error}), and {request.endpoint} could not be read to "
                "tell whether it already uses the new configuration, so nothing was "
                "removed: see python -m deploy.sagemaker status"
            ) from error
        if existing is not None and serving:
            # The endpoint runs on what this deploy made: removing it would break the
            # endpoint. Only the tidy-up after the switch failed; the tags still follow.
            sagemaker.add_tags(
                ResourceArn=existing["EndpointArn"],
                Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            )
            raise DeployError(
                f"{request.endpoint} now serves {ref.name} version {version}, but the "
                f"tidy-up after the switch failed ({error}): the previous model and "
                "endpoint configuration may be left behind"
            ) from error
        left = undo(calls.changes(), sagemaker, s3)
        if left:
            raise DeployError(
                f"the deploy failed ({error}) and these could not be removed: {'; '.join(left)}"
            ) from error
        if missing_serving_image(error):
            raise DeployError(
                f"there is no {SERVING_IMAGE} repository in ECR in {request.region}: push "
                "MLflow's serving image first (mlflow sagemaker build-and-push-container), "
                "or pass --image-url"
            ) from error
        raise
    return DeployOutcome(
        "create" if existing is None else "update", ref.name, version, calls.changes()
    )


def rolled_back(endpoint: str, name: str, kept: str, version: str, left: list[str]) -> str:
    """The message of a deploy that SageMaker rolled back."""
    tidy = (
        f"left behind: {'; '.join(left)}"
        if left
        else f"version {version}'s model and endpoint configuration are removed"
    )
    return (
        f"SageMaker rolled the update back: an alarm ({', '.join(alarm_names(endpoint))}) "
        f"fired during the canary or the bake; {endpoint} still serves {name} version "
        f"{kept}; {tidy}"
    )


def update_blue_green(
    request: DeployRequest,
    existing: dict[str, Any],
    config: dict[str, Any],
    calls: AwsCalls,
    target: Any,
    fixed_uri: str,
) -> None:
    """Create the endpoint's rollback alarms, then have MLflow update it in place with
    the blue/green ``DeploymentConfig`` added to its ``UpdateEndpoint``
    (``deploy.sagemaker_rollout``). The variant keeps its name, which the alarms watch."""
    import boto3

    variant = variant_of(existing)
    assert variant is not None  # checked before anything was changed
    cloudwatch = boto3.client("cloudwatch", region_name=request.region)
    for alarm in alarms(request.endpoint, variant, request.policy):
        cloudwatch.put_metric_alarm(**alarm)
    calls.update_endpoint_extra = {
        "DeploymentConfig": deployment_config(
            request.endpoint, request.policy, request.timeout_seconds
        )
    }
    target.update_deployment(
        request.endpoint,
        fixed_uri,
        FLAVOR,
        config={**config, "mode": "replace", "variant_name": variant},
    )


def status(endpoint: str, region: str) -> dict[str, Any]:
    """The endpoint's state, the model version it serves and its variants."""
    import boto3

    sagemaker = boto3.client("sagemaker", region_name=region)
    described = find_endpoint(sagemaker, endpoint)
    if described is None:
        raise DeployError(f"there is no endpoint {endpoint!r} in {region}")
    tags = tags_of(sagemaker, described["EndpointArn"])
    return {
        "endpoint": endpoint,
        "status": described["EndpointStatus"],
        "model_name": tags.get(TAG_MODEL_NAME),
        "model_version": tags.get(TAG_MODEL_VERSION),
        "source_model_uri": tags.get(TAG_SOURCE_URI),
        "endpoint_config": described.get("EndpointConfigName"),
        "variants": [
            {
                "name": variant.get("VariantName"),
                "instances": variant.get("CurrentInstanceCount"),
                "weight": variant.get("CurrentWeight"),
            }
            for variant in described.get("ProductionVariants", [])
        ],
        "failure_reason": described.get("FailureReason"),
        "last_modified": str(described.get("LastModifiedTime")),
    }


def delete(endpoint: str, region: str, timeout_seconds: int = 600) -> None:
    """Delete the endpoint, then its configuration, models and model data (MLflow's
    delete, waiting for the endpoint to go)."""
    import boto3
    from mlflow.deployments import get_deploy_client

    if find_endpoint(boto3.client("sagemaker", region_name=region), endpoint) is None:
        raise DeployError(f"there is no endpoint {endpoint!r} in {region}")
    get_deploy_client(f"sagemaker:/{region}").delete_deployment(
        endpoint,
        config={
            "region_name": region,
            "archive": False,
            "synchronous": True,
            "timeout_seconds": timeout_seconds,
        },
    )


# --- CLI --------------------------------------------------------------------------------

region_option = click.option(
    "--region",
    envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
    help="AWS region of the endpoint (default: $AWS_REGION, then $AWS_DEFAULT_REGION).",
)
endpoint_option = click.option("--endpoint", required=True, help="SageMaker endpoint name.")


def aws_errors(action: str) -> Any:
    """Turn an AWS or MLflow failure into a one-line error and exit code 1."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError
        from mlflow.exceptions import MlflowException

        try:
            yield
        except (ClientError, BotoCoreError, MlflowException) as error:
            raise DeployError(f"{action} failed: {error}") from error

    return guard()


@click.group()
def cli() -> None:
    """Deploy registered models to SageMaker endpoints, and report or delete them."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


@cli.command("deploy")
@click.option("--model-uri", required=True, help="models:/<name>@<alias> or models:/<name>/<N>.")
@endpoint_option
@region_option
@click.option("--execution-role-arn", help="IAM role SageMaker assumes for the endpoint.")
@click.option("--instance-type", default=DEFAULT_INSTANCE_TYPE, show_default=True)
@click.option("--instance-count", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option("--image-url", help="Serving image (default: MLflow's mlflow-pyfunc in your ECR).")
@click.option("--bucket", help="Bucket for the model data (default: MLflow's per-region bucket).")
@click.option("--timeout-seconds", type=click.IntRange(60, 7200), default=2400, show_default=True)
@click.option(
    "--canary-percent",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="An update's canary: this share of the new fleet first (100: all at once).",
)
@click.option("--canary-wait-seconds", type=click.IntRange(0, 3600), default=300, show_default=True)
@click.option(
    "--bake-seconds",
    type=click.IntRange(0, 3600),
    default=600,
    show_default=True,
    help="How long the old fleet stays up after the switch, for an instant rollback.",
)
@click.option("--max-5xx-per-minute", type=click.IntRange(1), default=1, show_default=True)
@click.option("--max-p99-ms", type=click.FloatRange(min=1), default=500.0, show_default=True)
@click.option(
    "--dry-run", is_flag=True, help="Print the AWS calls that would be made; change nothing."
)
def deploy_command(
    model_uri: str,
    endpoint: str,
    region: str | None,
    execution_role_arn: str | None,
    instance_type: str,
    instance_count: int,
    image_url: str | None,
    bucket: str | None,
    timeout_seconds: int,
    canary_percent: int,
    canary_wait_seconds: int,
    bake_seconds: int,
    max_5xx_per_minute: int,
    max_p99_ms: float,
    dry_run: bool,
) -> None:
    """Deploy the version MODEL_URI names now; update the endpoint in place if it exists."""
    parse_model_uri(model_uri)
    request = DeployRequest(
        model_uri=model_uri,
        endpoint=check_endpoint(endpoint),
        region=check_region(region),
        execution_role_arn=check_role(execution_role_arn),
        instance_type=check_instance_type(instance_type),
        instance_count=instance_count,
        image_url=image_url,
        bucket=bucket,
        timeout_seconds=timeout_seconds,
        dry_run=dry_run,
        policy=RolloutPolicy(
            canary_percent, canary_wait_seconds, bake_seconds, max_5xx_per_minute, max_p99_ms
        ),
    )
    with aws_errors("deploy"):
        outcome = deploy(request)
    where = f"{request.endpoint} ({request.region})"
    if outcome.action == "unchanged":
        click.echo(f"{where} already serves {outcome.model_name} version {outcome.version}")
        return
    if dry_run:
        click.echo(f"dry run, nothing changed. To {outcome.action} {where} the deploy would call:")
        for call in outcome.calls:
            click.echo(f"  {call.describe()}")
        if outcome.action == "update":
            click.echo(
                "  then, once the endpoint is InService on the new configuration, delete the "
                "previous model, its model data and its endpoint configuration"
            )
        return
    verb = "created" if outcome.action == "create" else "updated"
    click.echo(f"{where} {verb}: serving {outcome.model_name} version {outcome.version}")


@cli.command("status")
@endpoint_option
@region_option
def status_command(endpoint: str, region: str | None) -> None:
    """Print the endpoint's state and the model version it serves, as JSON."""
    with aws_errors("status"):
        report = status(check_endpoint(endpoint), check_region(region))
    click.echo(json.dumps(report, indent=2))


@cli.command("delete")
@endpoint_option
@region_option
@click.option("--timeout-seconds", type=click.IntRange(60, 7200), default=600, show_default=True)
def delete_command(endpoint: str, region: str | None, timeout_seconds: int) -> None:
    """Delete the endpoint, its configuration, its models and their model data."""
    region = check_region(region)
    with aws_errors("delete"):
        delete(check_endpoint(endpoint), region, timeout_seconds)
    click.echo(f"{endpoint} ({region}) deleted, with its configuration, models and model data")


if __name__ == "__main__":
    cli()

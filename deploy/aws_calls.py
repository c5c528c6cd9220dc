"""Every botocore call a deploy makes, seen from one place (``AwsCalls``): recorded in
order, answered locally in a dry run, changed where the deploy needs it (SageMaker's
blue/green ``DeploymentConfig`` on ``UpdateEndpoint``), held back where it would remove
what an endpoint still runs on; and ``undo``, which removes what a failed deploy made.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Operations that only read. Anything else changes something, and a dry run stops it.
READ_ONLY = ("Describe", "List", "Get", "Head")


@dataclass
class AwsCall:
    service: str
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None

    def describe(self) -> str:
        shown = {key: value for key, value in self.params.items() if key != "Body"}
        return f"{self.service}.{self.operation} {json.dumps(shown, default=str, sort_keys=True)}"


@dataclass
class AwsCalls:
    """Sees every botocore call made inside it, whatever session made the client.

    ``dry_run``: a call that is not a read is recorded and answered locally instead of
    being sent. Otherwise every call is sent, and the ones that succeeded are kept in
    order (``made``), so that what was created can be undone."""

    dry_run: bool = False
    region: str = "us-east-1"
    # Added to SageMaker's UpdateEndpoint (its blue/green DeploymentConfig).
    update_endpoint_extra: dict[str, Any] = field(default_factory=dict)
    made: list[AwsCall] = field(default_factory=list)
    # Calls not sent because they would remove what the endpoint runs on, with why.
    held_back: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def live_configuration(self) -> str | None:
        """The endpoint configuration the last DescribeEndpoint after the UpdateEndpoint
        reported (the one the endpoint runs on once the update ended); None before."""
        live = None
        updated = False
        for call in self.made:
            if call.operation == "UpdateEndpoint":
                updated = True
            elif updated and call.operation == "DescribeEndpoint" and call.response:
                live = call.response.get("EndpointConfigName")
        return live

    def created_configurations(self) -> set[str]:
        return {
            call.params["EndpointConfigName"]
            for call in self.made
            if call.operation == "CreateEndpointConfig"
        }

    def removes_what_runs(self, call: AwsCall) -> bool:
        """A delete of the previous model or configuration after an update that SageMaker
        rolled back: the endpoint still runs on them."""
        if call.service != "sagemaker" or call.operation not in (
            "DeleteModel",
            "DeleteEndpointConfig",
        ):
            return False
        return self.rolled_back()

    def rolled_back(self) -> bool:
        """Whether the endpoint, InService again after the UpdateEndpoint, runs on a
        configuration this deploy did not create (SageMaker rolled the update back)."""
        live = self.live_configuration()
        return live is not None and live not in self.created_configurations()

    @staticmethod
    def changes_something(operation: str) -> bool:
        return not operation.startswith(READ_ONLY)

    def stub_response(self, call: AwsCall) -> dict[str, Any]:
        response: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200}}
        noun = call.operation.removeprefix("Create").removeprefix("Update")
        if call.service == "sagemaker":
            name = call.params.get(f"{noun}Name", "dry-run")
            response[f"{noun}Arn"] = f"arn:aws:sagemaker:{self.region}:000000000000:dry-run/{name}"
        if call.operation == "PutObject":
            response["ETag"] = '"dry-run"'
        return response

    @contextlib.contextmanager
    def active(self) -> Iterator[AwsCalls]:
        from botocore.client import BaseClient

        original: Callable[..., Any] = BaseClient._make_api_call
        calls = self

        def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            call = AwsCall(client.meta.service_model.service_name, operation, dict(params))
            if operation == "UpdateEndpoint" and calls.update_endpoint_extra:
                params = {**params, **calls.update_endpoint_extra}
                call.params = dict(params)
            if calls.removes_what_runs(call):
                with calls._lock:
                    calls.held_back.append(call.describe())
                logger.info("not sent, the endpoint still runs on it: %s", call.describe())
                return {"ResponseMetadata": {"HTTPStatusCode": 200}}
            if calls.dry_run and calls.changes_something(operation):
                call.response = calls.stub_response(call)
                with calls._lock:
                    calls.made.append(call)
                return call.response
            call.response = original(client, operation, params)
            with calls._lock:
                calls.made.append(call)
            return call.response

        BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        try:
            yield self
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    def changes(self) -> list[AwsCall]:
        return [call for call in self.made if self.changes_something(call.operation)]


def undo(calls: list[AwsCall], sagemaker: Any, s3: Any) -> list[str]:
    """Delete, newest first, what these calls created: endpoint, endpoint configuration,
    model and uploaded model data. Buckets stay (MLflow's default model bucket is shared
    by every deploy). Returns what could not be removed."""
    left: list[str] = []
    for call in reversed(calls):
        params = call.params
        try:
            if call.operation == "CreateEndpoint":
                sagemaker.delete_endpoint(EndpointName=params["EndpointName"])
            elif call.operation == "CreateEndpointConfig":
                sagemaker.delete_endpoint_config(EndpointConfigName=params["EndpointConfigName"])
            elif call.operation == "CreateModel":
                sagemaker.delete_model(ModelName=params["ModelName"])
            elif call.operation in ("PutObject", "CompleteMultipartUpload"):
                s3.delete_object(Bucket=params["Bucket"], Key=params["Key"])
            else:
                continue
            logger.info("removed after the failed deploy: %s", call.describe())
        except Exception as error:  # every leftover is reported, none hidden
            left.append(f"{call.describe()} ({error})")
    return left


# --- AWS reads --------------------------------------------------------------------------


def find_endpoint(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """The endpoint's description, or None when there is no such endpoint. Any other
    error (no permission, throttling, a 5xx) is raised, never read as "not there"."""
    from botocore.exceptions import ClientError

    try:
        return dict(sagemaker.describe_endpoint(EndpointName=name))
    except ClientError as error:
        details = error.response.get("Error", {})
        if details.get("Code") == "ValidationException" and "Could not find" in details.get(
            "Message", ""
        ):
            return None
        raise


def tags_of(sagemaker: Any, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for page in sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
        tags.update({tag["Key"]: tag["Value"] for tag in page["Tags"]})
    return tags


@contextlib.contextmanager
def quiet(logger_name: str, enabled: bool) -> Iterator[None]:
    """Only warnings from this logger while inside, when enabled."""
    log = logging.getLogger(logger_name)
    level = log.level
    if enabled:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def serving_new_configuration(sagemaker: Any, endpoint: str, calls: list[AwsCall]) -> bool | None:
    """Whether the endpoint now names an endpoint configuration these calls created;
    None when that cannot be read (then nothing is removed)."""
    created = {
        call.params["EndpointConfigName"]
        for call in calls
        if call.operation == "CreateEndpointConfig"
    }
    try:
        described = find_endpoint(sagemaker, endpoint)
    except Exception:  # the original error is the one reported
        return None
    return described is not None and described.get("EndpointConfigName") in created


def missing_serving_image(error: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return (
        isinstance(error, ClientError)
        and error.response.get("Error", {}).get("Code") == "RepositoryNotFoundException"
    )

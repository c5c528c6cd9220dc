"""The team servers' login and request guard: MLflow's basic-auth, then the refusals a
shared server needs and MLflow 3.17 does not make.

Both the tracking server and the artifacts-only server name this module as basic-auth's
``authorization_function`` (``deploy.server_guard:authenticate_request``). After the
login succeeds it refuses, with a 400 that says why:

- an experiment created with an ``artifact_location``: the server, not the caller,
  chooses where artifacts live. Otherwise a user could point an experiment at
  ``file:///etc``, another bucket, or another user's proxied path.
- a model version whose ``source`` is a raw storage URI (``s3://``, ``file://``, an
  ``http`` URL, ...): a version's files are named by ``models:/`` or ``runs:/``, or by a
  path under the server's own ``mlflow-artifacts:`` root. The tracking server holds no
  bucket keys, so such a source could not be read through it anyway; refusing it at
  creation keeps the registry free of versions that point outside the server.

and it answers the tracking server's two artifact download routes (``/get-artifact``,
``/model-versions/get-artifact``) with a 404 that names the artifacts server: the
tracking server holds no artifacts, and MLflow's own answer there is a 500 that quotes
the database URI.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import urlparse

from flask import Response, request
from mlflow.server.auth import authenticate_request_basic_auth
from werkzeug.datastructures import Authorization

ALLOWED_SOURCE_SCHEMES = frozenset({"models", "runs", "mlflow-artifacts"})
TRACKING_DOWNLOAD_ROUTES = frozenset({"/get-artifact", "/model-versions/get-artifact"})
CREATE_EXPERIMENT = re.compile(r"^/(?:api|ajax-api)/2\.0/mlflow/experiments/create$")
CREATE_MODEL_VERSION = re.compile(r"^/(?:api|ajax-api)/2\.0/mlflow/model-versions/create$")


def authenticate_request() -> Authorization | Response:
    """Log the user in with basic-auth, then refuse what the server must not accept."""
    authorization = authenticate_request_basic_auth()
    if not isinstance(authorization, Authorization):
        return authorization
    if request.path in TRACKING_DOWNLOAD_ROUTES:
        return error_response(
            404,
            "ENDPOINT_NOT_FOUND",
            "this tracking server holds no artifacts; download them through the artifacts "
            "server (mlflow artifacts download -u runs:/... or models:/...)",
        )
    problem = refusal(request.method, request.path, request.get_data(cache=True))
    if problem is not None:
        return error_response(400, "INVALID_PARAMETER_VALUE", problem)
    return authorization


def refusal(method: str, path: str, body: bytes) -> str | None:
    """Why the request ``method path`` with ``body`` is refused, or None to let it through."""
    if method != "POST":
        return None
    if CREATE_EXPERIMENT.match(path):
        fields = _json_fields(body)
        if fields is None:
            return "experiments/create: the request body is not a JSON object"
        if fields.get("artifact_location"):
            return (
                "experiments/create: artifact_location is chosen by this server; "
                f"leave it out (got {str(fields['artifact_location'])[:200]!r})"
            )
    elif CREATE_MODEL_VERSION.match(path):
        fields = _json_fields(body)
        if fields is None:
            return "model-versions/create: the request body is not a JSON object"
        source = str(fields.get("source") or "")
        scheme = urlparse(source).scheme
        if scheme not in ALLOWED_SOURCE_SCHEMES:
            return (
                f"model-versions/create: source {source[:200]!r} is not a models:/, runs:/ "
                "or mlflow-artifacts: URI; register a logged model or a run's artifact"
            )
        host = urlparse(source).netloc
        if scheme == "mlflow-artifacts" and host and host != artifacts_host():
            return (
                f"model-versions/create: source {source[:200]!r} names a host other than "
                "this server's artifacts server"
            )
    return None


def artifacts_host() -> str:
    """The host:port of this deployment's artifacts server, from the artifact root the
    tracking server is started with (``MLFLOW_DEFAULT_ARTIFACT_ROOT``); empty when the
    root names no host."""
    return urlparse(os.environ.get("MLFLOW_DEFAULT_ARTIFACT_ROOT", "")).netloc


def error_response(status: int, error_code: str, message: str) -> Response:
    """An error in MLflow's shape, so MLflow's clients show the message."""
    return Response(
        json.dumps({"error_code": error_code, "message": message}),
        status=status,
        mimetype="application/json",
    )


def _json_fields(body: bytes) -> dict | None:
    try:
        fields = json.loads(body or b"{}")
    except ValueError:
        return None
    return fields if isinstance(fields, dict) else None

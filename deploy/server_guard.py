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

On the artifacts server, a listing of the artifact root names only the experiments the
user may read (MLflow's own lists every experiment's folder, so a user denied one still
saw its id), and a download of a file that is not there gets a 404, once the
user's permission to read it is established. MLflow's own answer is a 500 that quotes
the bucket, and clients retry a 500 for minutes: MLflow 3 looks for a run's model under
the run's artifacts first (``runs:/<id>/model``), so every register and load of a run's
model asked for a missing file. Clients that reach the artifacts server directly get a
quick 404 by another route (its presigned-download endpoint); behind one address (the
AWS load balancer, ``deploy.front_door``) they ask the tracking server's ``server-info``,
are told to download through the proxy, and met the 500.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from collections.abc import Mapping
from urllib.parse import urlparse

from flask import Response, after_this_request, g, request
from mlflow.server.auth import authenticate_request_basic_auth
from werkzeug.datastructures import Authorization

ALLOWED_SOURCE_SCHEMES = frozenset({"models", "runs", "mlflow-artifacts"})
TRACKING_DOWNLOAD_ROUTES = frozenset({"/get-artifact", "/model-versions/get-artifact"})
CREATE_EXPERIMENT = re.compile(r"^/(?:api|ajax-api)/2\.0/mlflow/experiments/create$")
CREATE_MODEL_VERSION = re.compile(r"^/(?:api|ajax-api)/2\.0/mlflow/model-versions/create$")
DOWNLOAD_ARTIFACT = re.compile(r"^/(?:api|ajax-api)/2\.0/mlflow-artifacts/artifacts/.+")
LIST_ARTIFACTS = re.compile(r"^/(?:api|ajax-api)/2\.0/mlflow-artifacts/artifacts/?$")

logger = logging.getLogger(__name__)


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
    if request.method == "GET" and DOWNLOAD_ARTIFACT.match(request.path):
        missing = missing_download(authorization)
        if missing is not None:
            return error_response(404, "RESOURCE_DOES_NOT_EXIST", missing)
    if request.method == "GET" and LIST_ARTIFACTS.match(request.path) and _is_root(request.args):
        filter_root_listing(authorization)
    return authorization


def _is_root(args: Mapping[str, str]) -> bool:
    return not str(args.get("path", "")).strip().strip("/.")


def filter_root_listing(authorization: Authorization) -> None:
    """For anyone but an admin, have the artifact root's listing name only the
    experiments the user may read. MLflow 3.17 judges the root by the default permission
    alone, so its own listing names every experiment's id, even one the user is denied.
    The listing is filtered after MLflow has made it (``after_this_request``: MLflow's own
    response hooks call this guard again, so it must not answer the request itself)."""
    if g.get("lifecycle_root_listing_filtered"):
        return
    g.lifecycle_root_listing_filtered = True
    username = authorization.username or ""

    @after_this_request
    def keep_readable(response: Response) -> Response:
        return readable_root_listing(response, username)


def readable_root_listing(response: Response, username: str) -> Response:
    """``response`` (the root listing) with only the experiment folders ``username`` may
    read; when a permission cannot be read, nothing is listed and the answer says why."""
    from mlflow.server.auth import _get_experiment_permission, store

    if response.status_code != 200:
        return response
    try:
        if store.get_user(username).is_admin:
            return response
        files = json.loads(response.get_data() or b"{}").get("files", [])
        readable = [
            entry
            for entry in files
            if str(entry.get("path", "")).isdigit()
            and _get_experiment_permission(str(entry["path"]), username).can_read
        ]
    except Exception:
        logger.warning("could not filter the artifact root for %s", username, exc_info=True)
        return error_response(
            503, "TEMPORARILY_UNAVAILABLE", "the artifact root cannot be listed now; try again"
        )
    response.set_data(json.dumps({"files": readable}) if readable else "{}")
    return response


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


def missing_download(authorization: Authorization) -> str | None:
    """Why this artifact download names no file, or None to let the download go on.

    Decided only for a user MLflow's own check lets read the path (anyone else gets
    MLflow's 403 as before, so nobody learns what exists where they cannot read), and
    only when the store can be listed: any doubt lets MLflow's handler answer."""
    from mlflow.server.auth import store, validate_can_read_experiment_artifact_proxy
    from mlflow.server.handlers import _get_artifact_repo_mlflow_artifacts
    from mlflow.utils.uri import validate_path_is_safe

    path = (request.view_args or {}).get("artifact_path")
    if not path:
        return None
    try:
        # MLflow's permission check reads the user from here (it is set after this guard;
        # without it the check would call this guard again).
        username = authorization.username or ""
        g.mlflow_authenticated_user = username
        is_admin = store.get_user(username).is_admin
        if not (is_admin or validate_can_read_experiment_artifact_proxy()):
            return None
        path = validate_path_is_safe(path)
        parent, name = posixpath.split(path)
        listed = _get_artifact_repo_mlflow_artifacts().list_artifacts(parent or None)
    except Exception:  # the handler answers as it would have
        logger.debug("could not tell whether %s exists", path, exc_info=True)
        return None
    if any(posixpath.basename(entry.path) == name for entry in listed):
        return None
    return f"there is no artifact {path!r}"


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

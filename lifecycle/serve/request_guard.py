"""A guard MLflow's scoring server needs and does not have: a JSON body nested deeper
than Python's parser can read (``[[[[…]]]]`` a hundred thousand deep) raises
``RecursionError`` inside MLflow 3.17's request handling, which the server answers with
a 500 and a traceback in its log. With the guard, the request gets a 400 that says what
is wrong with it.

Every served model of the collection installs it when the scoring server loads the
model (``install``); outside a scoring server (batch scoring, a notebook) it does
nothing.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)

SCORING_SERVER = "mlflow.pyfunc.scoring_server"
TOO_DEEP = (
    "the request's JSON is nested too deeply to parse; send rows as dataframe_split or "
    "dataframe_records, each value a plain number or text"
)


def install() -> bool:
    """Wrap the running scoring server's ``invocations`` so a request nested too deeply
    gets a 400; returns whether a scoring server was found (installing twice is a no-op)."""
    server = sys.modules.get(SCORING_SERVER)
    if server is None or not hasattr(server, "invocations"):
        return False
    original = server.invocations
    if getattr(original, "lifecycle_guarded", False):
        return True

    def invocations(data: Any, content_type: Any, model: Any, input_schema: Any) -> Any:
        try:
            return original(data, content_type, model, input_schema)
        except RecursionError:
            logger.warning("refused a request nested too deeply to parse")
            return server.InvocationsResponse(
                response=json.dumps({"error_code": "BAD_REQUEST", "message": TOO_DEEP}),
                status=400,
                mimetype="application/json",
            )

    invocations.lifecycle_guarded = True  # type: ignore[attr-defined]
    setattr(server, "invocations", invocations)  # noqa: B010 - a module found at run time
    return True

# Generated from lifecycle/register/golden.py by python -m lifecycle.sync; edit the source.
"""A registered version's golden set: requests in the scoring server's JSON format and
the answers the version gives them, recorded at registration as a run artifact
(``golden/requests.json``) that the version's ``lifecycle.golden`` tag points to.

A deployment (``python -m deploy.serve``) sends each request to a newly started model
process before any traffic reaches it, and refuses the version unless every answer is
exactly the recorded one (``mismatches``).

The requests are the model's own serving example (saved with it when it was logged), as
``dataframe_split`` and as ``dataframe_records``. The answers come from the model loaded
as MLflow's scoring server loads it (``mlflow.pyfunc.load_model``), made JSON the way that
server does: ``{"predictions": ...}``, a frame as records, an array as a list.
"""

from __future__ import annotations

import json
import math
from typing import Any

ARTIFACT = "golden/requests.json"
FORMAT_VERSION = 1


class GoldenSetError(ValueError):
    """A golden set could not be built or read; the message says why."""


def jsonable(predictions: Any) -> Any:
    """``predictions`` as the scoring server writes them under ``predictions``."""
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.Series):
        predictions = pd.DataFrame(predictions)
    if isinstance(predictions, pd.DataFrame):
        predictions = predictions.to_dict(orient="records")
    elif isinstance(predictions, np.ndarray):
        predictions = predictions.tolist()
    # A round trip through JSON turns numpy scalars into numbers, as the server's encoder does.
    return json.loads(json.dumps(predictions, default=_number))


def _number(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"an answer of type {type(value).__name__} is not JSON")


def requests_of(serving_input: dict[str, Any]) -> list[dict[str, Any]]:
    """The golden requests made from a model's serving example: the example as saved and,
    for a ``dataframe_split`` example, the same rows as ``dataframe_records``."""
    requests = [serving_input]
    split = serving_input.get("dataframe_split")
    if isinstance(split, dict) and "columns" in split and "data" in split:
        records = [dict(zip(split["columns"], row, strict=True)) for row in split["data"]]
        rest = {key: value for key, value in serving_input.items() if key != "dataframe_split"}
        requests.append({"dataframe_records": records, **rest})
    return requests


def build(model_uri: str) -> dict[str, Any]:
    """The golden set of the model at ``model_uri``: its serving example's requests and the
    model's answers to them. Raises ``GoldenSetError`` when the model has no example."""
    import mlflow
    from mlflow.models import Model

    local = mlflow.artifacts.download_artifacts(model_uri)
    serving_input = Model.load(local).get_serving_input(local)
    if serving_input is None:
        raise GoldenSetError(f"{model_uri} was logged without an input example")
    model = mlflow.pyfunc.load_model(local)
    cases = []
    for request in requests_of(json.loads(serving_input)):
        cases.append({"request": request, "answer": {"predictions": _predict(model, request)}})
    return {"format": FORMAT_VERSION, "model_uri": model_uri, "cases": cases}


def _predict(model: Any, request: dict[str, Any]) -> Any:
    import pandas as pd

    params = request.get("params")
    if "dataframe_split" in request:
        split = request["dataframe_split"]
        frame = pd.DataFrame(split["data"], columns=split["columns"])
    elif "dataframe_records" in request:
        frame = pd.DataFrame(request["dataframe_records"])
    else:
        raise GoldenSetError(f"a serving example in {sorted(request)} is not a table")
    return jsonable(model.predict(frame, params=params) if params else model.predict(frame))


def parse(text: str) -> list[dict[str, Any]]:
    """The cases of a golden set read back from its artifact; ``GoldenSetError`` if it is
    not one."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise GoldenSetError(f"the golden set is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise GoldenSetError(f"the golden set is not of format {FORMAT_VERSION}")
    cases = document.get("cases")
    if not isinstance(cases, list) or not cases:
        raise GoldenSetError("the golden set holds no cases")
    for case in cases:
        if not (isinstance(case, dict) and {"request", "answer"} <= set(case)):
            raise GoldenSetError("a golden case lacks its request or its answer")
    return cases


def same(expected: Any, got: Any) -> bool:
    """Whether two JSON answers are exactly equal (a NaN equals a NaN; nothing else is
    rounded or forgiven)."""
    if isinstance(expected, float) and isinstance(got, float):
        return expected == got or (math.isnan(expected) and math.isnan(got))
    if isinstance(expected, dict) and isinstance(got, dict):
        return expected.keys() == got.keys() and all(same(expected[k], got[k]) for k in expected)
    if isinstance(expected, list) and isinstance(got, list):
        pairs = zip(expected, got, strict=False)
        return len(expected) == len(got) and all(same(e, g) for e, g in pairs)
    return type(expected) is type(got) and expected == got


def mismatches(cases: list[dict[str, Any]], answers: list[Any]) -> list[str]:
    """One line per case whose answer differs from the recorded one (empty: parity)."""
    lines = []
    for number, (case, got) in enumerate(zip(cases, answers, strict=True), start=1):
        if not same(case["answer"], got):
            lines.append(f"golden request {number}: the answer differs from the recorded one")
    return lines

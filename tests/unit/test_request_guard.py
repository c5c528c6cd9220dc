"""Unit tests of lifecycle.serve.request_guard on a stand-in for MLflow's scoring server module."""

from __future__ import annotations

import json
import sys
import types
from typing import NamedTuple

import pytest

from lifecycle.serve import request_guard


class Answer(NamedTuple):
    response: str
    status: int
    mimetype: str


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    module = types.ModuleType(request_guard.SCORING_SERVER)

    def invocations(data, content_type, model, input_schema):
        if data == "deep":
            raise RecursionError("maximum recursion depth exceeded while decoding")
        if data == "broken":
            raise ValueError("not ours to answer")
        return Answer("ok", 200, "application/json")

    module.invocations = invocations  # type: ignore[attr-defined]
    module.InvocationsResponse = Answer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, request_guard.SCORING_SERVER, module)
    return module


def test_outside_a_scoring_server_nothing_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, request_guard.SCORING_SERVER, raising=False)
    assert request_guard.install() is False


def test_a_request_too_deep_to_parse_is_a_400_and_others_pass(server: types.ModuleType) -> None:
    assert request_guard.install() is True
    assert request_guard.install() is True  # twice is once
    answer = server.invocations("deep", "application/json", None, None)
    assert answer.status == 400
    assert "nested too deeply" in json.loads(answer.response)["message"]
    assert server.invocations("fine", "application/json", None, None).status == 200
    # Any other error is not the guard's to classify: MLflow answers it as before.
    with pytest.raises(ValueError, match="not ours"):
        server.invocations("broken", "application/json", None, None)

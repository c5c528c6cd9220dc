"""The step cache key: what a step's result depends on (project, entry point,
normalised parameters, code, environment and data hashes), hashed; the search that
finds a finished run with the same key; and how a step's run is referred to (its model
URI, the run id in MLflow's failure message). Pure."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from orchestrator.selection import MODEL_ARTIFACT

CACHE_KEY_TAG = "orchestrator.cache_key"
CACHE_INGREDIENTS_TAG = "orchestrator.cache_ingredients"
CACHE_FORMAT = 1


@dataclass(frozen=True)
class StepIngredients:
    """Everything a step's result depends on; equal ingredients give an equal key."""

    project: str
    entry_point: str
    parameters: dict[str, str]
    code_sha256: str
    env_sha256: str
    data_sha256: dict[str, str]
    upstream_run_ids: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "format": CACHE_FORMAT,
            "project": self.project,
            "entry_point": self.entry_point,
            "parameters": dict(sorted(self.parameters.items())),
            "code_sha256": self.code_sha256,
            "env_sha256": self.env_sha256,
            "data_sha256": dict(sorted(self.data_sha256.items())),
            "upstream_run_ids": list(self.upstream_run_ids),
        }

    def key(self) -> str:
        """sha256 of the canonical JSON of the ingredients."""
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def cache_filter(key: str) -> str:
    """The ``search_runs`` filter that finds a finished run made with ``key``."""
    if not re.fullmatch(r"[0-9a-f]{64}", key):
        raise ValueError(f"not a cache key: {key!r}")
    return f"tags.`{CACHE_KEY_TAG}` = '{key}' and attributes.status = 'FINISHED'"


def model_uri_for(train_run_id: str) -> str:
    """The hand-off from train to evaluate and register."""
    return f"runs:/{train_run_id}/{MODEL_ARTIFACT}"


_RUN_ID_IN_MESSAGE = re.compile(r"Run \(ID '([0-9a-f]+)'\) failed")


def failed_run_id(message: str) -> str | None:
    """The run id inside MLflow's "Run (ID '...') failed" message, if present."""
    match = _RUN_ID_IN_MESSAGE.search(message)
    return match.group(1) if match else None

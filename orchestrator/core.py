"""The orchestrator's pure pieces, in one namespace: ``selection`` (which projects, which
manager, how parallel), ``overrides`` (MLproject types, normalised values, overrides),
``cache`` (the step cache key) and ``summary`` (what each chain produced, the table).

No MLflow, no files and no processes there; ``orchestrator.chain`` does the running and
``orchestrator.fingerprint`` reads what the cache key is made of.
"""

from __future__ import annotations

from orchestrator.cache import (
    CACHE_FORMAT,
    CACHE_INGREDIENTS_TAG,
    CACHE_KEY_TAG,
    StepIngredients,
    cache_filter,
    failed_run_id,
    model_uri_for,
)
from orchestrator.overrides import (
    PARAMETER_TYPES,
    ParamSpec,
    entry_point_parameters,
    normalise_parameters,
    normalise_value,
    parse_overrides,
    split_pairs,
    step_parameters,
)
from orchestrator.selection import (
    ENV_MANAGERS,
    MODEL_ARTIFACT,
    STEPS,
    ParameterError,
    discover_projects,
    parse_flag,
    parse_force,
    select_projects,
    step_slots,
)
from orchestrator.summary import (
    CACHE_OUTCOMES,
    SUMMARY_COLUMNS,
    ChainResult,
    cache_counts,
    format_summary,
    summary_json,
    summary_markdown,
)

__all__ = [
    "CACHE_FORMAT",
    "CACHE_INGREDIENTS_TAG",
    "CACHE_KEY_TAG",
    "CACHE_OUTCOMES",
    "ENV_MANAGERS",
    "MODEL_ARTIFACT",
    "PARAMETER_TYPES",
    "STEPS",
    "SUMMARY_COLUMNS",
    "ChainResult",
    "ParamSpec",
    "ParameterError",
    "StepIngredients",
    "cache_counts",
    "cache_filter",
    "discover_projects",
    "entry_point_parameters",
    "failed_run_id",
    "format_summary",
    "model_uri_for",
    "normalise_parameters",
    "normalise_value",
    "parse_flag",
    "parse_force",
    "parse_overrides",
    "select_projects",
    "split_pairs",
    "step_parameters",
    "step_slots",
    "summary_json",
    "summary_markdown",
]

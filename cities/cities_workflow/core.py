"""The travel-city recommender's modelling, in one namespace.

Each topic has a module of its own: ``schema`` (the table's vocabulary), ``params``
(validated parameters), ``table`` (parsing and validating the city table), ``features``
(the features and their PCA; the only module that needs scikit-learn), ``preferences``
(a traveller's request), ``ranking`` (constraints, relevance, diverse selection) and
``gate`` (the evaluation over the profiles, and the gate). This module gathers their
names for the steps and the tests; the served recommender imports only ``ranking`` and
what it needs. Nothing here reads files, talks to MLflow or prints.
"""

from __future__ import annotations

from cities_workflow.features import (
    build_features,
    catalog,
    fit_pca,
    loadings,
)
from cities_workflow.gate import (
    GateDecision,
    decide,
    evaluation_metrics,
    profile_evidence,
    promotion_rule,
)
from cities_workflow.params import (
    GateParams,
    TrainParams,
)
from cities_workflow.preferences import (
    Preference,
    PreferenceError,
    duration_for,
    parse_preference,
    parse_regions,
)
from cities_workflow.ranking import (
    RESULT_COLUMNS,
    eligible,
    recommend,
    recommend_all,
    relevance,
    select_diverse,
)
from cities_workflow.schema import (
    ACTIVITIES,
    ACTIVITY_SHARE,
    BUDGET_LEVELS,
    DURATION_COLUMNS,
    DURATION_DAYS,
    DURATION_SHARE,
    DURATIONS,
    FEATURES,
    MAX_RANDOM_STATE,
    MAX_TEMPERATURE_C,
    MAX_TOP_K,
    MAX_TRIP_DAYS,
    MAX_WEIGHT,
    MIN_COMPONENTS,
    MIN_TEMPERATURE_C,
    MONTHS,
    REQUIRED_COLUMNS,
    TEMPERATURE_COLUMNS,
    TEMPERATURE_SCALE_C,
    TEMPERATURE_SHARE,
    TRIP_WORDS,
    budget_rank,
)
from cities_workflow.table import (
    parse_durations,
    parse_monthly_temperatures,
    validate_cities,
)
from lifecycle.errors import DataError, ParameterError

__all__ = [
    "ACTIVITIES",
    "ACTIVITY_SHARE",
    "BUDGET_LEVELS",
    "DURATIONS",
    "DURATION_COLUMNS",
    "DURATION_DAYS",
    "DURATION_SHARE",
    "FEATURES",
    "MAX_RANDOM_STATE",
    "MAX_TEMPERATURE_C",
    "MAX_TOP_K",
    "MAX_TRIP_DAYS",
    "MAX_WEIGHT",
    "MIN_COMPONENTS",
    "MIN_TEMPERATURE_C",
    "MONTHS",
    "REQUIRED_COLUMNS",
    "RESULT_COLUMNS",
    "TEMPERATURE_COLUMNS",
    "TEMPERATURE_SCALE_C",
    "TEMPERATURE_SHARE",
    "TRIP_WORDS",
    "DataError",
    "GateDecision",
    "GateParams",
    "ParameterError",
    "Preference",
    "PreferenceError",
    "TrainParams",
    "budget_rank",
    "build_features",
    "catalog",
    "decide",
    "duration_for",
    "eligible",
    "evaluation_metrics",
    "fit_pca",
    "loadings",
    "parse_durations",
    "parse_monthly_temperatures",
    "parse_preference",
    "parse_regions",
    "profile_evidence",
    "promotion_rule",
    "recommend",
    "recommend_all",
    "relevance",
    "select_diverse",
    "validate_cities",
]

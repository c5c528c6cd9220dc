"""The standardised city features, their PCA, and the catalog the served
recommender ranks (the table with its PCA coordinates). Training only: this is the
module that needs scikit-learn."""

from __future__ import annotations

import pandas as pd
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cities_workflow.params import TrainParams
from cities_workflow.schema import (
    ACTIVITIES,
    DURATION_COLUMNS,
    FEATURES,
    MIN_COMPONENTS,
    TEMPERATURE_COLUMNS,
    budget_rank,
)
from lifecycle.errors import DataError, ParameterError


def build_features(cities: pd.DataFrame) -> pd.DataFrame:
    """The numeric features PCA sees: ratings, monthly average temperatures, budget rank
    (1 = Budget .. 3 = Luxury) and one 0/1 column per ideal trip duration."""
    features = cities[list(ACTIVITIES)].astype("float64")
    for column in TEMPERATURE_COLUMNS:
        features[column] = cities[column].astype("float64")
    features["budget_rank"] = cities["budget_level"].map(budget_rank).astype("float64")
    for column in DURATION_COLUMNS:
        features[column] = cities[column].astype("float64")
    return features[list(FEATURES)]


def fit_pca(features: pd.DataFrame, params: TrainParams) -> Pipeline:
    """Standardise every feature, then PCA with ``n_components`` components."""
    if len(features) <= MIN_COMPONENTS:
        raise DataError(
            f"the cities file holds {len(features)} cities; the recommender needs at least "
            f"{MIN_COMPONENTS + 1} to fit {MIN_COMPONENTS} components: use a fuller file"
        )
    if len(features) <= params.n_components:
        raise ParameterError(
            "n_components",
            params.n_components,
            f"must be below the number of cities ({len(features)})",
        )
    pipeline = Pipeline(
        [
            ("standardise", StandardScaler()),
            (
                "pca",
                PCA(n_components=params.n_components, random_state=params.random_state),
            ),
        ]
    )
    return pipeline.fit(features)


def loadings(pipeline: Pipeline) -> pd.DataFrame:
    """Feature x component weights of the fitted PCA."""
    pca: PCA = pipeline.named_steps["pca"]
    columns = [f"pc{i + 1}" for i in range(pca.n_components_)]
    return pd.DataFrame(pca.components_.T, index=list(FEATURES), columns=columns)


def catalog(cities: pd.DataFrame, pipeline: Pipeline) -> pd.DataFrame:
    """What the served recommender needs per city: names, constraints, ratings,
    monthly temperatures, durations and the PCA coordinates (``pc1..pcN``)."""
    embedding = pipeline.transform(build_features(cities))
    columns = [
        "id",
        "city",
        "country",
        "region",
        "budget_level",
        *ACTIVITIES,
        *TEMPERATURE_COLUMNS,
        *DURATION_COLUMNS,
    ]
    table = cities[columns].copy()
    for i in range(embedding.shape[1]):
        table[f"pc{i + 1}"] = embedding[:, i]
    return table

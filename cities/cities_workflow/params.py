"""The cities entry points and their parameters, each declared once (``PROJECT``).

The click options, the ``MLproject`` and the README's parameter tables are made from
these declarations (``lifecycle.params``; ``python -m lifecycle.sync`` writes the
files). Constructing a class validates every field. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from cities_workflow.schema import FEATURES, MIN_COMPONENTS
from lifecycle.io.datasets import PinnedFile
from lifecycle.monitor.params import monitor_entry_point
from lifecycle.params import (
    MAX_SEED,
    Declared,
    EntryPoint,
    ProjectDeclaration,
    evaluate_entry_point,
    param,
)
from lifecycle.register.params import register_entry_point
from lifecycle.score.params import score_entry_point

CITY_TABLE = PinnedFile(
    dataset="cities",
    filename="Worldwide_Travel_Cities_Dataset.csv",
    url="https://raw.githubusercontent.com/turelit/mlflow_demo/"
    "f3d97fea52ce354e51de248f38d51eab5db50953/datasets/Worldwide_Travel_Cities_Dataset.csv",
    sha256="336042373c7d225ba7fb42f4062d5895c297346ae3ea35bc96453df54c5bfa18",
    size=478_871,
)


@dataclass(frozen=True)
class TrainParams(Declared):
    """The recommender's recipe; constructing it validates every field."""

    n_components: int = param(
        5,
        help="PCA components",
        low=MIN_COMPONENTS,
        high=len(FEATURES),
        allowed="and below the number of cities",
    )
    diversity: float = param(
        0.2,
        help="the weight of diversity against relevance when ranking (1 would ignore relevance)",
        low=0.0,
        high=1.0,
        high_open=True,
    )
    random_state: int = param(42, help="the seed of the PCA solver", low=0, high=MAX_SEED)


@dataclass(frozen=True)
class DataParams(Declared):
    """The city table ``train`` reads: the pinned copy unless one is given."""

    data_path: str = param(
        "",
        help="the city table CSV",
        allowed="empty: the pinned, sha256-verified copy; relative paths are resolved "
        "against the repository root",
    )
    datasets_mirror: str = param(
        "",
        help="a directory holding cities/Worldwide_Travel_Cities_Dataset.csv, for machines "
        "without internet",
        allowed="empty: $DATASETS_MIRROR",
    )


@dataclass(frozen=True)
class GateParams(Declared):
    """The registration gate: every constraint respected, and enough explained variance."""

    min_explained_variance: float = param(
        0.7,
        help="the lowest total PCA explained variance the gate accepts",
        low=0.0,
        high=1.0,
        low_open=True,
    )


PROJECT = ProjectDeclaration(
    name="cities",
    package="cities_workflow",
    summary="The travel-city recommender: train -> evaluate -> register, each an entry "
    "point of its own.\nAn empty data_path means the pinned copy of "
    "Worldwide_Travel_Cities_Dataset.csv\n(fetched, or read from datasets_mirror / "
    "$DATASETS_MIRROR, and verified by sha256).",
    entry_points=(
        EntryPoint(
            command="train",
            help="Fit the PCA, build the recommender, score the evaluation profiles, log them all.",
            declared=(TrainParams, DataParams),
            aliases=("main",),
        ),
        evaluate_entry_point(
            "Run the evaluation profiles through the packaged model and log the metrics."
        ),
        register_entry_point(
            "cities",
            GateParams,
            "Register the model if it respects every constraint and explains enough variance.",
        ),
        score_entry_point("cities"),
        monitor_entry_point("cities"),
    ),
    datasets=(CITY_TABLE,),
)

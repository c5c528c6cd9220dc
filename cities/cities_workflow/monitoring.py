"""How the monitor step watches the city recommender.

The recommender is built from a city table, so that is what its profile describes: the
nine activity ratings and the twelve monthly temperatures (numeric), the region, budget
level and each ideal trip duration (categorical) of the catalog it was trained on. A new
release of the city table is monitored against it. A table of traveller requests (or a
score output) is not: nothing describes the requests a version was built for, so their
drift is reported as one that cannot be judged, never as none.

There is no live feedback: the collection sees no bookings, clicks or ratings of what it
recommended, so ``truth`` is refused (the command says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cities_workflow.schema import ACTIVITIES, DURATION_COLUMNS, REQUIRED_COLUMNS
from cities_workflow.schema import TEMPERATURE_COLUMNS as TEMPERATURES
from cities_workflow.table import validate_cities
from lifecycle.monitor import drift
from lifecycle.monitor.verdicts import LiveCheck, UnjudgedError

if TYPE_CHECKING:
    from lifecycle.models import ResolvedModel

NUMERIC: tuple[str, ...] = (*ACTIVITIES, *TEMPERATURES)
CATEGORICAL: tuple[str, ...] = ("region", "budget_level", *DURATION_COLUMNS)
REQUEST_COLUMNS = ("month", "preferred_temp", "trip_days")


def profiled_columns(cities: pd.DataFrame) -> pd.DataFrame:
    """The monitored columns of a validated city table (durations as "0"/"1")."""
    frame = cities[list(NUMERIC)].astype("float64")
    for column in CATEGORICAL:
        frame[column] = (
            cities[column].astype("int64").astype(str)
            if (column in DURATION_COLUMNS)
            else cities[column].astype(str)
        )
    return frame


def reference_profile(cities: pd.DataFrame, random_state: int) -> drift.Profile:
    """The profile of the city table a recommender was built from."""
    return drift.build_profile(
        profiled_columns(cities), numeric=NUMERIC, categorical=CATEGORICAL, seed=random_state
    )


def monitored_features(batch: pd.DataFrame) -> pd.DataFrame:
    """The monitored columns of a batch that is a city table; a table of requests
    raises ``UnjudgedError``, anything else is refused as malformed by the table's checks."""
    if all(column in batch.columns for column in REQUEST_COLUMNS) and not all(
        column in batch.columns for column in REQUIRED_COLUMNS
    ):
        raise UnjudgedError(
            "the batch holds traveller requests; the recommender was built from a city "
            "table and nothing profiles the requests it serves, so their drift cannot be "
            "judged (monitor a new release of the city table instead)"
        )
    text = batch.astype(object).where(batch.notna(), None)
    text = text.map(lambda value: value if value is None else str(value))
    return profiled_columns(validate_cities(text))


class CitiesMonitor:
    """The recommender as the monitor step sees it."""

    project = "cities"
    feedback: str | None = None

    def features(self, batch: pd.DataFrame) -> pd.DataFrame:
        return monitored_features(batch)

    def batch_date(self, batch: pd.DataFrame) -> pd.Timestamp | None:
        return None

    def live(
        self, model: ResolvedModel, batch: pd.DataFrame, truth: pd.DataFrame, alpha: float
    ) -> LiveCheck:
        raise UnjudgedError("the recommender has no live feedback")

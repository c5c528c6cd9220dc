"""The fixed traveller profiles the evaluate step and the gate recommend for.

They span every budget level, region filters of one, two and no regions, every trip
length label, both hemispheres' seasons, and activity mixes from single-minded to
broad, so that the metrics cover the constraint logic and the ranking.
"""

from __future__ import annotations

import pandas as pd

from cities_workflow.schema import ACTIVITIES

_NO_WEIGHTS = dict.fromkeys(ACTIVITIES, 0.0)

PROFILES: tuple[dict[str, object], ...] = (
    {
        "name": "culture and food in Europe, July",
        "month": 7,
        "preferred_temp": 24.0,
        "budget_level": "Mid-range",
        "regions": "europe",
        **_NO_WEIGHTS,
        "culture": 5.0,
        "cuisine": 5.0,
        "urban": 3.0,
        "nightlife": 2.0,
        "trip_days": 7,
        "top_k": 5,
    },
    {
        "name": "winter beach on a budget, anywhere",
        "month": 1,
        "preferred_temp": 28.0,
        "budget_level": "Budget",
        "regions": "",
        **_NO_WEIGHTS,
        "beaches": 5.0,
        "wellness": 3.0,
        "seclusion": 2.0,
        "trip_days": 10,
        "top_k": 5,
    },
    {
        "name": "adventure in South America, October",
        "month": 10,
        "preferred_temp": 18.0,
        "budget_level": "Luxury",
        "regions": "south_america",
        **_NO_WEIGHTS,
        "adventure": 5.0,
        "nature": 5.0,
        "trip_days": 21,
        "top_k": 5,
    },
    {
        "name": "nightlife weekend in Europe, May",
        "month": 5,
        "preferred_temp": 20.0,
        "budget_level": "Budget",
        "regions": "europe",
        **_NO_WEIGHTS,
        "nightlife": 5.0,
        "urban": 4.0,
        "cuisine": 2.0,
        "trip_days": 2,
        "top_k": 5,
    },
    {
        "name": "wellness retreat in Asia, March",
        "month": 3,
        "preferred_temp": 26.0,
        "budget_level": "Luxury",
        "regions": "asia",
        **_NO_WEIGHTS,
        "wellness": 5.0,
        "seclusion": 4.0,
        "nature": 3.0,
        "trip_days": 5,
        "top_k": 5,
    },
    {
        "name": "cool nature week in North America, August",
        "month": 8,
        "preferred_temp": 16.0,
        "budget_level": "Mid-range",
        "regions": "north_america",
        **_NO_WEIGHTS,
        "nature": 5.0,
        "seclusion": 5.0,
        "adventure": 3.0,
        "trip_days": 7,
        "top_k": 5,
    },
    {
        "name": "food trip in Asia or the Middle East, November",
        "month": 11,
        "preferred_temp": 22.0,
        "budget_level": "Mid-range",
        "regions": "asia,middle_east",
        **_NO_WEIGHTS,
        "cuisine": 5.0,
        "culture": 4.0,
        "trip_days": 4,
        "top_k": 5,
    },
    {
        "name": "a day in the city, anywhere, April",
        "month": 4,
        "preferred_temp": 15.0,
        "budget_level": "Luxury",
        "regions": "",
        **dict.fromkeys(ACTIVITIES, 1.0),
        "urban": 5.0,
        "culture": 3.0,
        "trip_days": 1,
        "top_k": 3,
    },
    {
        "name": "southern summer in Oceania or Africa, December",
        "month": 12,
        "preferred_temp": 27.0,
        "budget_level": "Mid-range",
        "regions": "oceania,africa",
        **_NO_WEIGHTS,
        "beaches": 4.0,
        "nature": 4.0,
        "adventure": 3.0,
        "trip_days": 30,
        "top_k": 8,
    },
)


def profiles_frame() -> pd.DataFrame:
    """The profiles as request rows (the ``name`` column is for reports only)."""
    return pd.DataFrame(list(PROFILES))

"""The recommender's evaluation over the fixed preference profiles, and the gate: every
slot filled, every recommendation within its constraints, enough explained variance."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cities_workflow.params import GateParams
from cities_workflow.preferences import parse_preference
from cities_workflow.ranking import eligible, relevance
from cities_workflow.schema import TEMPERATURE_SCALE_C
from lifecycle import significance
from lifecycle.register.rule import ChampionRule


def evaluation_metrics(
    table: pd.DataFrame, profiles: pd.DataFrame, results: pd.DataFrame
) -> dict[str, float]:
    """How the recommendations for ``profiles`` fare.

    - ``constraint_satisfaction``: share of recommended cities meeting their profile's
      budget and region constraints (must be 1; NaN when nothing was recommended);
    - ``filled_share``: recommended slots over requested ``top_k`` slots;
    - ``temperature_abs_error_c``, ``temperature_fit``: mean |city temperature in the
      month - preferred temperature| and mean exp(-error / 5 °C);
    - ``coverage``: distinct cities over recommended slots (1 = no city repeats across
      profiles); ``catalog_coverage``: distinct cities over all cities;
    - ``country_diversity``: mean share of distinct countries within a profile's list.
    """
    known_regions = set(table["region"])
    lookup = table.set_index(["city", "country"])
    satisfied, errors, requested, countries = [], [], 0, []
    for number, row in enumerate(profiles.to_dict(orient="records")):
        preference = parse_preference(row, known_regions)
        requested += preference.top_k
        mine = results[results["profile"] == number]
        if mine.empty:
            continue
        cities = lookup.loc[list(zip(mine["city"], mine["country"], strict=True))].reset_index()
        satisfied.extend(eligible(cities, preference).tolist())
        errors.extend(
            np.abs(cities[f"temp_avg_{preference.month}"] - preference.preferred_temp).tolist()
        )
        countries.append(mine["country"].nunique() / len(mine))
    slots = len(results)
    distinct = len(set(zip(results["city"], results["country"], strict=True)))
    error = np.array(errors, dtype="float64")
    return {
        # Over zero recommendations there is nothing to satisfy: undefined, never 100 %.
        "constraint_satisfaction": float(np.mean(satisfied)) if satisfied else float("nan"),
        "filled_share": slots / requested if requested else 0.0,
        "temperature_abs_error_c": float(error.mean()) if error.size else float("nan"),
        "temperature_fit": float(np.exp(-error / TEMPERATURE_SCALE_C).mean())
        if error.size
        else 0.0,
        "coverage": distinct / slots if slots else 0.0,
        "catalog_coverage": distinct / len(table),
        "country_diversity": float(np.mean(countries)) if countries else 0.0,
    }


def profile_evidence(
    table: pd.DataFrame, profiles: pd.DataFrame, results: pd.DataFrame
) -> pd.DataFrame:
    """Per-profile evidence (``lifecycle.evidence``), one row per evaluation profile.

    A profile's value is its *relevance at k*: the relevance each recommended city has
    for the traveller (``ranking.relevance``: activity match, temperature fit and
    duration fit, each 0..1, weighted), summed over the list and divided by the
    ``top_k`` slots asked for. An empty slot, or a city that breaks the budget or
    region, counts 0. So it is 1 only for a full list of perfectly fitting cities, and
    it can be compared between two models on the same profiles; the loss is 1 minus it.
    """
    known_regions = set(table["region"])
    lookup = table.set_index(["city", "country"])
    rows = []
    for number, row in enumerate(profiles.to_dict(orient="records")):
        preference = parse_preference(row, known_regions)
        mine = results[results["profile"] == number]
        listed = "; ".join(mine["city"].astype(str))
        # A city the judging catalog does not hold (another release's) counts 0.
        held = [key in lookup.index for key in zip(mine["city"], mine["country"], strict=True)]
        mine = mine[held] if len(mine) else mine
        value = 0.0
        if not mine.empty:
            cities = lookup.loc[list(zip(mine["city"], mine["country"], strict=True))]
            cities = cities.reset_index()
            fit = relevance(cities, preference)["relevance"].to_numpy()
            value = float(np.sum(np.where(eligible(cities, preference), fit, 0.0)))
        utility = value / preference.top_k
        rows.append(
            {
                "row_id": str(row.get("name", number)),
                "truth": preference.top_k,
                "prediction": listed,
                "relevance_at_k": utility,
                "loss": 1.0 - utility,
            }
        )
    return pd.DataFrame(rows)


def promotion_rule(alpha: float) -> ChampionRule:
    """The champion rule: a higher mean relevance at k over the evaluation profiles, and
    the one-sided Wilcoxon signed-rank test over the profiles at ``alpha`` (a handful of
    profiles, with no reason to assume normal differences)."""
    return ChampionRule(
        "relevance_at_k",
        True,
        significance.WILCOXON,
        significance.wilcoxon_signed_rank,
        alpha,
        value_of=lambda rows: 1.0 - float(rows["loss"].mean()),
    )


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate: every requested slot filled, every recommendation within its
    constraints, and enough explained variance. Whether a passing model replaces the
    champion is the registry's rule: a higher relevance at k over the same profiles, by
    the Wilcoxon signed-rank test (``promotion_rule``)."""

    constraint_satisfaction: float
    value: float  # the PCA's explained variance
    threshold: float
    passed: bool
    filled_share: float = 1.0
    metric: str = "explained_variance"

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        if self.filled_share < 1.0:
            filled = (
                f"the recommender filled only {self.filled_share:.2%} of the requested slots "
                f"(100% required)"
            )
        else:
            filled = "every requested slot filled"
        if math.isnan(self.constraint_satisfaction):
            constraints = "no recommendations to check against their constraints"
        elif self.constraint_satisfaction == 1.0:
            constraints = "every recommendation meets its constraints"
        else:
            constraints = (
                f"only {self.constraint_satisfaction:.2%} of recommendations meet their "
                f"constraints (100% required)"
            )
        comparison = ">=" if self.value >= self.threshold else "<"
        return (
            f"gate {verdict}: {filled}; {constraints}; explained variance {self.value:.4f} "
            f"{comparison} {self.threshold:.4f}"
        )

    def summary(self) -> str:
        """The gate line alone (the register step appends the champion's outcome)."""
        return self.text() if self.passed else self.text() + "; no model version registered"


def decide(
    gate: GateParams,
    constraint_satisfaction: float,
    explained_variance: float,
    filled_share: float = 1.0,
) -> GateDecision:
    """Pass when every slot is filled, every recommendation meets its constraints (an
    empty answer meets nothing), and the explained variance reaches the threshold."""
    passed = (
        filled_share >= 1.0
        and constraint_satisfaction == 1.0
        and explained_variance >= gate.min_explained_variance
    )
    return GateDecision(
        constraint_satisfaction=constraint_satisfaction,
        value=explained_variance,
        threshold=gate.min_explained_variance,
        passed=passed,
        filled_share=filled_share,
    )

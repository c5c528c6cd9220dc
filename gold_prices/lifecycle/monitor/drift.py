# Generated from lifecycle/monitor/drift.py by python -m lifecycle.sync; edit the source.
"""Reference profiles of a model's training inputs, and drift tests of a batch against
them. Pure: pandas and scipy, no I/O.

A profile summarises each input feature (count, missing, mean, sd, quantiles) and keeps
what a test needs: a seeded sample of up to ``SAMPLE_SIZE`` values of a numeric feature,
the counts of a categorical one. It is stored as JSON with every model (the train step)
and read back by ``monitor``.

Each feature of a batch is tested against its reference with a test suited to its type:
- numeric: the two-sample Kolmogorov-Smirnov test (scipy's ``ks_2samp``);
- categorical: Pearson's chi-square test of homogeneity of the reference's and the
  batch's counts (scipy's ``chi2_contingency``); a category the reference never saw is
  evidence. (A goodness-of-fit test against the reference shares, used before, treats
  them as exact and raised drift on 30 to 60 % of batches drawn from the other half of
  the city table.)

Each feature also gets an effect size: the Wasserstein distance in reference standard
deviations (numeric), the Jensen-Shannon distance of the shares (categorical). The
batch's verdict (``DriftReport``): by default, drift when any feature's Holm-adjusted
p-value is below ``alpha`` and its effect reaches ``EFFECT_FLOOR``, so drift is raised on
a batch from the reference population with probability at most ``alpha``; with
``drift_share`` > 0, Evidently's share rule instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL = "numeric", "categorical"
SAMPLE_SIZE = 2000
QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
KOLMOGOROV_SMIRNOV = "Kolmogorov-Smirnov"
CHI_SQUARE = "chi-square"


class ProfileError(ValueError):
    """A profile that cannot be built or read, or a batch that cannot be tested."""


@dataclass(frozen=True)
class FeatureProfile:
    """One feature of the training inputs: its kind, counts and summary, and the
    sample (numeric) or category counts (categorical) a drift test reads."""

    name: str
    kind: str
    count: int
    missing: int
    summary: dict[str, float] = field(default_factory=dict)
    sample: tuple[float, ...] = ()
    categories: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """The training inputs of a model: their rows, a digest of their content, and a
    profile per feature."""

    rows: int
    digest: str
    features: tuple[FeatureProfile, ...]

    def feature(self, name: str) -> FeatureProfile:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise ProfileError(f"the reference profile has no feature {name!r}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Profile:
        try:
            data = json.loads(text)
            features = tuple(
                FeatureProfile(
                    name=str(item["name"]),
                    kind=str(item["kind"]),
                    count=int(item["count"]),
                    missing=int(item["missing"]),
                    summary={k: float(v) for k, v in item.get("summary", {}).items()},
                    sample=tuple(float(v) for v in item.get("sample", ())),
                    categories={str(k): int(v) for k, v in item.get("categories", {}).items()},
                )
                for item in data["features"]
            )
            profile = cls(rows=int(data["rows"]), digest=str(data["digest"]), features=features)
        except (ValueError, KeyError, TypeError) as error:
            raise ProfileError(f"the reference profile cannot be read: {error}") from error
        for feature in profile.features:
            if feature.kind not in (NUMERIC, CATEGORICAL):
                raise ProfileError(f"feature {feature.name!r} has unknown kind {feature.kind!r}")
        return profile


def digest(frame: pd.DataFrame) -> str:
    """The sha256 of a table's content (its CSV form, without the index)."""
    return hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()


def build_profile(
    frame: pd.DataFrame,
    numeric: tuple[str, ...] = (),
    categorical: tuple[str, ...] = (),
    seed: int = 0,
) -> Profile:
    """Profile the ``numeric`` and ``categorical`` columns of ``frame``."""
    missing = [name for name in (*numeric, *categorical) if name not in frame.columns]
    if missing:
        raise ProfileError(f"the training inputs lack column(s) {', '.join(missing)}")
    if frame.empty:
        raise ProfileError("the training inputs have no rows")
    rng = np.random.default_rng(seed)
    features = []
    for name in numeric:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise ProfileError(f"numeric feature {name!r} has no finite value to profile")
        sample = finite if finite.size <= SAMPLE_SIZE else rng.choice(finite, SAMPLE_SIZE, False)
        summary = {
            "mean": float(finite.mean()),
            "sd": float(finite.std(ddof=1)) if finite.size > 1 else 0.0,
            "min": float(finite.min()),
            "max": float(finite.max()),
            **{f"q{round(q * 100):02d}": float(np.quantile(finite, q)) for q in QUANTILES},
        }
        features.append(
            FeatureProfile(
                name,
                NUMERIC,
                int(finite.size),
                int(values.size - finite.size),
                summary,
                tuple(float(v) for v in np.sort(sample)),
            )
        )
    for name in categorical:
        column = frame[name]
        counts = column.dropna().astype(str).value_counts()
        features.append(
            FeatureProfile(
                name,
                CATEGORICAL,
                int(counts.sum()),
                int(column.isna().sum()),
                categories={str(k): int(v) for k, v in counts.items()},
            )
        )
    return Profile(rows=len(frame), digest=digest(frame), features=tuple(features))


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's test: its name, the test, the statistic, the raw p-value and the
    p-value adjusted for testing every feature of the batch (Holm; both NaN when the
    batch holds no value of it), the effect size (``effect_name``: the Wasserstein
    distance in reference standard deviations, or the Jensen-Shannon distance of the
    category shares), and whether the feature drifted under the batch's rule."""

    name: str
    test: str
    statistic: float
    p_value: float
    drifted: bool = False
    note: str = ""
    adjusted_p_value: float = math.nan
    effect: float = math.nan
    effect_name: str = ""

    @property
    def tested(self) -> bool:
        return not math.isnan(self.p_value)


@dataclass(frozen=True)
class DriftReport:
    """Every feature's test and the batch's verdict under one of two rules:

    - ``drift_share == 0`` (the default): the batch drifts when any feature's
      Holm-adjusted p-value is below ``alpha`` and its effect reaches ``effect_floor``.
      On a batch from the reference population, drift is raised with probability at
      most ``alpha`` whatever the number of features (Holm controls the family-wise
      error rate under any dependence between them).
    - ``drift_share > 0``: Evidently's share rule. A feature drifts when its own
      p-value is below ``alpha`` and its effect reaches the floor; the batch drifts when
      the share of tested features that drifted reaches ``drift_share``. No stated
      false-alarm rate, and one strongly shifted feature among many stays "no drift".
    """

    features: tuple[FeatureDrift, ...]
    alpha: float
    drift_share: float = 0.0
    effect_floor: float = 0.1
    rows: int = 0

    @property
    def rule(self) -> str:
        """The verdict's rule in a few words."""
        if self.drift_share > 0:
            return (
                f"share rule: a feature at p < {self.alpha:g} and effect >= "
                f"{self.effect_floor:g}, the batch at a share of {self.drift_share:g}"
            )
        return (
            f"Holm-adjusted p < {self.alpha:g} and effect >= {self.effect_floor:g} on any feature"
        )

    @property
    def tested(self) -> int:
        return sum(1 for feature in self.features if feature.tested)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features if feature.drifted)

    @property
    def share(self) -> float:
        return len(self.drifted_features) / self.tested if self.tested else 0.0

    @property
    def drifted(self) -> bool:
        if not self.drifted_features:
            return False
        return self.share >= self.drift_share if self.drift_share > 0 else True

    @property
    def small(self) -> str:
        """A note when the batch is smaller than any size the calibration measured."""
        if 0 < self.rows < SMALLEST_CALIBRATED_BATCH:
            return (
                f"the batch holds {self.rows} row(s); the false-alarm rate is measured for "
                f"batches of {SMALLEST_CALIBRATED_BATCH} rows or more"
            )
        return ""


# The effect-size floor below which a significant difference is not drift: Evidently's
# large-sample defaults (Wasserstein distance in reference standard deviations for a
# numeric feature, Jensen-Shannon distance for a categorical one, both 0.1).
EFFECT_FLOOR = 0.1
WASSERSTEIN = "wasserstein_sd"
JENSEN_SHANNON = "jensen_shannon"
# The smallest batch ``python -m bench.calibration`` measures; below it the verdict
# says so.
SMALLEST_CALIBRATED_BATCH = 50


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of ``p_values`` (each at most 1, monotone in the
    order of the raw values). Written here because scipy has only Benjamini-Hochberg
    and statsmodels would add a dependency to every project for eight lines."""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    count = len(p_values)
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def numeric_drift(reference: FeatureProfile, values: np.ndarray, alpha: float) -> FeatureDrift:
    """The two-sample Kolmogorov-Smirnov test of ``values`` against the reference
    sample, and the Wasserstein distance between them in reference standard deviations
    (``drifted`` here is the raw test with the floor; the report applies its rule)."""
    from scipy.stats import ks_2samp, wasserstein_distance

    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return FeatureDrift(
            reference.name, KOLMOGOROV_SMIRNOV, math.nan, math.nan, False, "no value to test"
        )
    sample = np.asarray(reference.sample)
    with warnings.catch_warnings():
        # scipy falls back from the exact to the asymptotic distribution on large samples
        # and says so; either is the test's own p-value.
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        result = ks_2samp(sample, finite)
    distance = float(wasserstein_distance(sample, finite))
    sd = float(reference.summary.get("sd", 0.0))
    effect = distance / sd if sd > 0 else (math.inf if distance > 0 else 0.0)
    p_value = float(result.pvalue)
    return FeatureDrift(
        reference.name,
        KOLMOGOROV_SMIRNOV,
        float(result.statistic),
        p_value,
        p_value < alpha and effect >= EFFECT_FLOOR,
        effect=effect,
        effect_name=WASSERSTEIN,
    )


def categorical_drift(reference: FeatureProfile, values: pd.Series, alpha: float) -> FeatureDrift:
    """Pearson's chi-square test of homogeneity of the reference's and the batch's
    category counts (scipy's ``chi2_contingency``: both are samples, so the reference's
    own sampling error is counted), and the Jensen-Shannon distance (base 2) between the
    two sets of shares."""
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2_contingency

    observed_counts = values.dropna().astype(str).value_counts()
    if observed_counts.empty:
        return FeatureDrift(
            reference.name, CHI_SQUARE, math.nan, math.nan, False, "no value to test"
        )
    names = sorted(set(reference.categories) | set(observed_counts.index))
    if len(names) < 2:
        return FeatureDrift(
            reference.name,
            CHI_SQUARE,
            0.0,
            1.0,
            False,
            "one category",
            effect=0.0,
            effect_name=JENSEN_SHANNON,
        )
    observed = np.array([observed_counts.get(name, 0) for name in names], dtype="float64")
    expected = np.array([reference.categories.get(name, 0) for name in names], dtype="float64")
    effect = float(jensenshannon(expected, observed, base=2))
    result = chi2_contingency(np.vstack([expected, observed]), correction=False)
    unseen = sorted(set(observed_counts.index) - set(reference.categories))
    note = f"categories the reference never saw: {', '.join(unseen[:5])}" if unseen else ""
    p_value = float(result.pvalue)
    return FeatureDrift(
        reference.name,
        CHI_SQUARE,
        float(result.statistic),
        p_value,
        p_value < alpha and effect >= EFFECT_FLOOR,
        note,
        effect=effect,
        effect_name=JENSEN_SHANNON,
    )


def drift_report(
    profile: Profile, batch: pd.DataFrame, alpha: float = 0.05, drift_share: float = 0.0
) -> DriftReport:
    """Test every profiled feature of ``batch`` against ``profile`` and apply the rule
    ``drift_share`` names (0: Holm over the features; else the share rule)."""
    missing = [f.name for f in profile.features if f.name not in batch.columns]
    if missing:
        raise ProfileError(f"the batch lacks profiled column(s) {', '.join(missing)}")
    if batch.empty:
        raise ProfileError("the batch has no rows to test")
    results = []
    for feature in profile.features:
        if feature.kind == NUMERIC:
            values = pd.to_numeric(batch[feature.name], errors="coerce").to_numpy(dtype="float64")
            results.append(numeric_drift(feature, values, alpha))
        else:
            results.append(categorical_drift(feature, batch[feature.name], alpha))
    tested = [index for index, result in enumerate(results) if result.tested]
    adjusted = holm([results[index].p_value for index in tested])
    for index, value in zip(tested, adjusted, strict=True):
        result = results[index]
        floor_met = result.effect >= EFFECT_FLOOR
        drifted = (result.p_value < alpha if drift_share > 0 else value < alpha) and floor_met
        results[index] = replace(result, adjusted_p_value=value, drifted=drifted)
    return DriftReport(tuple(results), alpha, drift_share, EFFECT_FLOOR, len(batch))

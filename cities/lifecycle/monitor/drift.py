# Generated from lifecycle/monitor/drift.py by python -m lifecycle.sync; edit the source.
"""Reference profiles of a model's training inputs, and drift tests of a batch against
them. Pure: pandas and scipy, no I/O.

A profile summarises each input feature (count, missing, mean, sd, quantiles) and keeps
what a test needs: a seeded sample of up to ``SAMPLE_SIZE`` values of a numeric feature,
the counts of a categorical one. It is stored as JSON with every model (the train step)
and read back by ``monitor``.

Each feature of a batch is tested against its reference with a test suited to its type:
- numeric: the two-sample Kolmogorov-Smirnov test (scipy's ``ks_2samp``);
- categorical: Pearson's chi-square goodness-of-fit test of the batch's counts against
  the reference shares (scipy's ``chisquare``), with half a count added to every
  category either side has, so a category the reference never saw is evidence, not a
  division by zero.

A feature has drifted when its p-value is below ``alpha``; the batch has drifted when
the share of drifted features reaches ``drift_share``.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

NUMERIC, CATEGORICAL = "numeric", "categorical"
SAMPLE_SIZE = 2000
QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
PSEUDO_COUNT = 0.5
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
    """One feature's test: its name, the test, the statistic, the p-value (NaN when the
    batch holds no value of it) and whether it drifted."""

    name: str
    test: str
    statistic: float
    p_value: float
    drifted: bool
    note: str = ""


@dataclass(frozen=True)
class DriftReport:
    """Every feature's test, the share of drifted features and the verdict."""

    features: tuple[FeatureDrift, ...]
    alpha: float
    drift_share: float

    @property
    def drifted_features(self) -> tuple[str, ...]:
        return tuple(feature.name for feature in self.features if feature.drifted)

    @property
    def share(self) -> float:
        tested = [f for f in self.features if not math.isnan(f.p_value)]
        return len(self.drifted_features) / len(tested) if tested else 0.0

    @property
    def drifted(self) -> bool:
        return bool(self.drifted_features) and self.share >= self.drift_share


def numeric_drift(reference: FeatureProfile, values: np.ndarray, alpha: float) -> FeatureDrift:
    """The two-sample Kolmogorov-Smirnov test of ``values`` against the reference sample."""
    from scipy.stats import ks_2samp

    finite = np.asarray(values, dtype="float64")
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return FeatureDrift(
            reference.name, KOLMOGOROV_SMIRNOV, math.nan, math.nan, False, "no value to test"
        )
    with warnings.catch_warnings():
        # scipy falls back from the exact to the asymptotic distribution on large samples
        # and says so; either is the test's own p-value.
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        result = ks_2samp(np.asarray(reference.sample), finite)
    p_value = float(result.pvalue)
    return FeatureDrift(
        reference.name, KOLMOGOROV_SMIRNOV, float(result.statistic), p_value, p_value < alpha
    )


def categorical_drift(reference: FeatureProfile, values: pd.Series, alpha: float) -> FeatureDrift:
    """Pearson's chi-square test of the batch's category counts against the reference
    shares, half a count added to every category either side has."""
    from scipy.stats import chisquare

    observed_counts = values.dropna().astype(str).value_counts()
    if observed_counts.empty:
        return FeatureDrift(
            reference.name, CHI_SQUARE, math.nan, math.nan, False, "no value to test"
        )
    names = sorted(set(reference.categories) | set(observed_counts.index))
    if len(names) < 2:
        return FeatureDrift(reference.name, CHI_SQUARE, 0.0, 1.0, False, "one category")
    observed = np.array([observed_counts.get(name, 0) + PSEUDO_COUNT for name in names])
    shares = np.array([reference.categories.get(name, 0) + PSEUDO_COUNT for name in names])
    expected = shares / shares.sum() * observed.sum()
    result = chisquare(observed, expected)
    unseen = sorted(set(observed_counts.index) - set(reference.categories))
    note = f"categories the reference never saw: {', '.join(unseen[:5])}" if unseen else ""
    p_value = float(result.pvalue)
    return FeatureDrift(
        reference.name, CHI_SQUARE, float(result.statistic), p_value, p_value < alpha, note
    )


def drift_report(
    profile: Profile, batch: pd.DataFrame, alpha: float = 0.05, drift_share: float = 0.5
) -> DriftReport:
    """Test every profiled feature of ``batch`` against ``profile``."""
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
    return DriftReport(tuple(results), alpha, drift_share)

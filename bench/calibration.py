"""How often ``monitor`` raises drift on batches that did not drift, and how often it
catches batches that did, per project, from one command:

    python -m bench.calibration [--batches 100] [--large-batches 20] [--seed 0]

The drift verdict is ``lifecycle.monitor.drift.drift_report`` at the monitor step's
defaults: each feature's test, Holm's correction over the features at alpha 0.05, and
the effect-size floor. Two nulls per project:

- **split halves** (the honest one): the training inputs are split at random into two
  halves, afresh for every batch; the profile is built from one exactly as train builds
  it, and the batch is drawn from the other: without replacement while the half holds
  enough rows (a fresh sample of the population), resampled beyond that (at 1,000 iris
  flowers, and at 1,000,000 rows, where rows repeat and only the effect-size floor
  stands between the half's own sampling error and a false alarm);
- **bootstrap** (the friendly one, kept for comparison): the profile from all the
  inputs and batches drawn from those same rows.

And the shifts, drawn from the other half at a realistic size: each project's documented
shift, and one feature moved by 0.5 and by 1 of its reference standard deviations; each
reported as the share of batches that raised drift.

Pure: no MLflow; it reads the iris table from the repository and the pinned gold and
city tables from ``DATASETS_MIRROR`` (or the pinned download).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.monitor.drift import SMALLEST_CALIBRATED_BATCH, Profile

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
ALPHA = 0.05
GOLD_CUTOFF = "2024-12-31"


LARGE = 1_000_000


@dataclass(frozen=True)
class NullFigure:
    """Drift raised on ``raised`` of ``batches`` null batches of ``size`` rows, drawn by
    ``how`` (``split halves`` or ``bootstrap``)."""

    project: str
    how: str
    size: int
    batches: int
    raised: int

    @property
    def rate(self) -> float:
        return self.raised / self.batches


@dataclass(frozen=True)
class WindowFigure:
    """Drift raised on ``raised`` of the ``windows`` consecutive, non-overlapping
    windows of ``size`` rows of the training inputs themselves (a series' own regimes)."""

    project: str
    size: int
    windows: int
    raised: int


@dataclass(frozen=True)
class ShiftFigure:
    """A shifted batch: what moved, its rows, how many of ``batches`` raised drift, and
    the features drifted in the first of them out of those tested."""

    project: str
    what: str
    rows: int
    batches: int
    raised: int
    drifted: int
    tested: int

    @property
    def rate(self) -> float:
        return self.raised / self.batches


# A shift: what it is, and how it turns a batch drawn from the other half into a
# shifted one (given the reference profile's standard deviations).
Shift = tuple[str, Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]]


@dataclass(frozen=True)
class Case:
    """A project's training inputs as the profile sees them, the sizes it monitors,
    its documented shifts and the feature moved alone."""

    project: str
    inputs: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    sizes: tuple[int, ...]
    shifted: tuple[Shift, ...] = ()
    one_feature: str = ""
    seed: int = 0
    window: int = 0  # for a series: the size of its consecutive windows, else 0
    # A batch made whole (e.g. a shifted catalog) rather than drawn: (what, batch).
    fixed: tuple[tuple[str, pd.DataFrame], ...] = ()

    def profile(self, frame: pd.DataFrame) -> Profile:
        from lifecycle.monitor.drift import build_profile

        return build_profile(frame, self.numeric, self.categorical, self.seed)


def _import(project: str, module: str):
    folder = str(REPOSITORY_ROOT / project)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(module)


def _bootstrap(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    return frame.iloc[rng.integers(0, len(frame), size)].reset_index(drop=True)


def _scaled(columns: list[str], factor: float) -> Callable[..., pd.DataFrame]:
    def shift(batch: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return batch.assign(**{column: batch[column] * factor for column in columns})

    return shift


def _added(columns: list[str], amount: float) -> Callable[..., pd.DataFrame]:
    def shift(batch: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        return batch.assign(**{column: batch[column] + amount for column in columns})

    return shift


def iris_case() -> Case:
    """The default training split's four measurements; petals 30 % larger, and petal
    length 2 cm longer, as the documented shifts."""
    core = _import("iris", "iris_workflow.core")
    data = _import("iris", "iris_workflow.data")
    params = core.TrainParams()
    frame = data.read_iris_csv(data.resolve_data_path(data.DEFAULT_DATA_PATH))
    train, _ = core.split_frame(frame, params.test_size, params.random_state)
    return Case(
        "iris",
        core.monitored_features(train).reset_index(drop=True),
        tuple(core.FEATURES),
        (),
        (SMALLEST_CALIBRATED_BATCH, 150, 1000),
        (
            ("petals 30 % larger", _scaled(["petal_length", "petal_width"], 1.3)),
            ("petal length 2 cm longer", _added(["petal_length"], 2.0)),
        ),
        one_feature="petal_length",
        seed=params.random_state,
    )


def gold_case() -> Case:
    """The engineered features of the history up to the cut-off; the 2025 bars as the shift."""
    steps = _import("gold_prices", "gold_workflow.steps")
    live = _import("gold_prices", "gold_workflow.live")
    data = _import("gold_prices", "gold_workflow.data")
    core = _import("gold_prices", "gold_workflow.core")
    params = core.TrainParams()
    history = steps.read_history(params, "", "", GOLD_CUTOFF)
    inputs = history.features.iloc[history.split.usable][list(core.NUMERIC_FEATURES)]
    prices, _ = core.drop_partial_last_bar(data.read_gold_csv(data.locate("", "").path))
    after = prices[prices[core.DATE] > pd.Timestamp(GOLD_CUTOFF)]
    # The 2025 bars, each with its 63 bars of look-back (which come from 2024).
    start = prices.index.get_loc(after.index[0]) - (core.MIN_HISTORY - 1)
    batch_2025 = live.monitored_features(prices.iloc[start:].reset_index(drop=True))
    return Case(
        "gold_prices",
        inputs.reset_index(drop=True),
        tuple(core.NUMERIC_FEATURES),
        (),
        (63, 250),
        one_feature=str(core.NUMERIC_FEATURES[0]),
        seed=params.random_state,
        window=63,
        fixed=((f"the {len(batch_2025)} bars after {GOLD_CUTOFF}", batch_2025),),
    )


def cities_case() -> Case:
    """The pinned city table; a Europe-only release, and a 3 °C warmer catalog."""
    monitoring = _import("cities", "cities_workflow.monitoring")
    data = _import("cities", "cities_workflow.data")
    schema = _import("cities", "cities_workflow.schema")
    params = _import("cities", "cities_workflow.params").TrainParams()
    cities = data.read_cities_csv(data.locate("", "").path)
    inputs = monitoring.profiled_columns(cities)
    europe = inputs[inputs["region"] == "europe"].reset_index(drop=True)
    warmer = _added(list(schema.TEMPERATURE_COLUMNS), 3.0)
    return Case(
        "cities",
        inputs,
        tuple(monitoring.NUMERIC),
        tuple(monitoring.CATEGORICAL),
        (100, len(inputs) // 2),
        (("every monthly temperature 3 °C warmer", warmer),),
        one_feature=str(schema.TEMPERATURE_COLUMNS[0]),
        seed=params.random_state,
        fixed=(
            (f"the {len(europe)} European cities alone", europe),
            (
                "the whole catalog, every monthly temperature 3 °C warmer",
                warmer(inputs, np.random.default_rng(0)),
            ),
        ),
    )


CASES: dict[str, Callable[[], Case]] = {
    "iris": iris_case,
    "gold_prices": gold_case,
    "cities": cities_case,
}


def windows(case: Case) -> WindowFigure | None:
    """A series' own consecutive windows through the drift verdict, against the profile
    of the whole series."""
    from lifecycle.monitor.drift import drift_report

    if not case.window:
        return None
    profile = case.profile(case.inputs)
    starts = range(0, len(case.inputs) - case.window + 1, case.window)
    raised = sum(
        drift_report(profile, case.inputs.iloc[start : start + case.window], ALPHA).drifted
        for start in starts
    )
    return WindowFigure(case.project, case.window, len(starts), int(raised))


def halves(frame: pd.DataFrame, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two random halves of ``frame``'s rows: the reference's and the batches'."""
    order = rng.permutation(len(frame))
    cut = len(frame) // 2
    return (
        frame.iloc[np.sort(order[:cut])].reset_index(drop=True),
        frame.iloc[np.sort(order[cut:])].reset_index(drop=True),
    )


def _draw(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    """``size`` rows of ``frame``: without replacement while it holds that many (a
    fresh sample of the population), resampled beyond (rows then repeat)."""
    if size <= len(frame):
        rows = np.sort(rng.choice(len(frame), size, replace=False))
        return frame.iloc[rows].reset_index(drop=True)
    return _bootstrap(frame, size, rng)


def _split_null(case: Case, size: int, batches: int, rng: np.random.Generator) -> int:
    """Drift raised on batches drawn from one half, against the profile of the other,
    the halves drawn afresh for every batch."""
    from lifecycle.monitor.drift import drift_report

    raised = 0
    for _ in range(batches):
        reference, other = halves(case.inputs, rng)
        batch = _draw(other, size, rng)
        raised += int(drift_report(case.profile(reference), batch, ALPHA).drifted)
    return raised


def calibrate(
    case: Case, batches: int, seed: int, large_batches: int = 0
) -> tuple[list[NullFigure], list[ShiftFigure]]:
    """Null batches at each size (split halves, then bootstrap, then ``large_batches``
    split-half batches of 1,000,000 rows), and each shift at the smallest size."""
    from lifecycle.monitor.drift import drift_report

    rng = np.random.default_rng(seed)
    nulls = []
    for size in case.sizes:
        raised = _split_null(case, size, batches, rng)
        nulls.append(NullFigure(case.project, "split halves", size, batches, raised))
    if large_batches:
        raised = _split_null(case, LARGE, large_batches, rng)
        nulls.append(NullFigure(case.project, "split halves", LARGE, large_batches, raised))
    whole_profile = case.profile(case.inputs)
    for size in case.sizes:
        drawn = [_bootstrap(case.inputs, size, rng) for _ in range(batches)]
        raised = sum(int(drift_report(whole_profile, batch, ALPHA).drifted) for batch in drawn)
        nulls.append(NullFigure(case.project, "bootstrap", size, batches, raised))
    reference, other = halves(case.inputs, rng)
    half_profile = case.profile(reference)
    size = case.sizes[0]
    shifts: list[Shift] = list(case.shifted)
    if case.one_feature:
        sd = half_profile.feature(case.one_feature).summary["sd"]
        for amount in (0.5, 1.0):
            shifts.append(
                (f"{case.one_feature} + {amount:g} sd", _added([case.one_feature], amount * sd))
            )
    figures = []
    for what, make in shifts:
        drawn = [make(_draw(other, size, rng), rng) for _ in range(batches)]
        reports = [drift_report(half_profile, batch, ALPHA) for batch in drawn]
        first = reports[0]
        figures.append(
            ShiftFigure(
                case.project,
                what,
                size,
                batches,
                sum(int(report.drifted) for report in reports),
                len(first.drifted_features),
                first.tested,
            )
        )
    for what, batch in case.fixed:
        report = drift_report(whole_profile, batch, ALPHA)
        figures.append(
            ShiftFigure(
                case.project,
                what,
                len(batch),
                1,
                int(report.drifted),
                len(report.drifted_features),
                report.tested,
            )
        )
    return nulls, figures


def table(
    nulls: list[NullFigure], shifts: list[ShiftFigure], series: Sequence[WindowFigure] = ()
) -> str:
    """Every kind of figure as one Markdown table."""
    lines = [
        "| project | batches | rows each | drift raised | features drifted (first batch) |",
        "|---|---|---|---|---|",
    ]
    for null in nulls:
        source = (
            "the other half of the training inputs"
            if null.how == "split halves"
            else "the training inputs the profile was built on"
        )
        lines.append(
            f"| {null.project} | null, {null.how}: {null.batches} batches from {source} | "
            f"{null.size:,} | {null.raised} of {null.batches} ({null.rate:.0%}) | - |"
        )
    for window in series:
        lines.append(
            f"| {window.project} | {window.windows} consecutive windows of the training "
            f"inputs (its own regimes) | {window.size} | {window.raised} of {window.windows} "
            f"({window.raised / window.windows:.0%}) | - |"
        )
    for shift in shifts:
        batches = f"{shift.batches} batches" if shift.batches > 1 else "one batch"
        lines.append(
            f"| {shift.project} | shifted, {batches}: {shift.what} | {shift.rows} | "
            f"{shift.raised} of {shift.batches} ({shift.rate:.0%}) | "
            f"{shift.drifted} of {shift.tested} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__)
    parser.add_argument("--batches", type=int, default=100, help="null batches per size")
    parser.add_argument(
        "--large-batches",
        type=int,
        default=20,
        help=f"null batches of {LARGE:,} rows per project (0: none)",
    )
    parser.add_argument("--seed", type=int, default=0, help="the seed of the draws")
    parser.add_argument(
        "--projects", default=",".join(CASES), help="comma-separated projects to calibrate"
    )
    args = parser.parse_args(argv)
    if args.batches < 1:
        parser.error("--batches must be at least 1")
    names = [name.strip() for name in args.projects.split(",") if name.strip()]
    unknown = sorted(set(names) - set(CASES))
    if unknown:
        parser.error(f"unknown project(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    nulls: list[NullFigure] = []
    shifts: list[ShiftFigure] = []
    series: list[WindowFigure] = []
    for name in names:
        case = CASES[name]()
        more_nulls, more_shifts = calibrate(case, args.batches, args.seed, args.large_batches)
        nulls += more_nulls
        shifts += more_shifts
        window = windows(case)
        if window is not None:
            series.append(window)
    sys.stdout.write(table(nulls, shifts, series))


if __name__ == "__main__":
    main()

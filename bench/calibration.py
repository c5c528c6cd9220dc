"""How often ``monitor`` raises drift on batches that did not drift, and whether it
raises it on batches that did, per project, from one command:

    python -m bench.calibration [--batches 100] [--seed 0]

For each project the reference profile is built from its real training inputs exactly
as its train step builds it. Each null batch is a bootstrap sample (rows drawn with
replacement) of those same inputs, at the sizes a user would monitor; the drift verdict
is ``lifecycle.drift.drift_report`` at the monitor step's defaults (each feature at
alpha 0.05, the batch drifted when half the tested features drift). The documented
shifted batches:

- iris: a bootstrap batch of 50 flowers with both petal measurements 30 % larger;
- gold_prices: the profile of the history up to 2024-12-31 (the README's story), null
  batches drawn from that history, and the shifted batch the real 2025 bars;
- cities: the catalog restricted to Europe (a regional release of the city table); and,
  to show the verdict's limit, every monthly temperature 3 °C warmer.

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

from lifecycle.monitor.drift import Profile

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
ALPHA = 0.05
DRIFT_SHARE = 0.5
GOLD_CUTOFF = "2024-12-31"


@dataclass(frozen=True)
class NullFigure:
    """Drift raised on ``raised`` of ``batches`` bootstrap batches of ``size`` rows."""

    project: str
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
    """A documented shifted batch: its rows, the share of drifted features, the verdict."""

    project: str
    what: str
    rows: int
    drifted: int
    tested: int
    raised: bool


@dataclass(frozen=True)
class Case:
    """A project's training inputs as the profile sees them, and its shifted batches."""

    project: str
    profile: Profile
    inputs: pd.DataFrame
    sizes: tuple[int, ...]
    shifted: tuple[tuple[str, Callable[[np.random.Generator], pd.DataFrame]], ...]
    window: int = 0  # for a series: the size of its consecutive windows, else 0


def _import(project: str, module: str):
    folder = str(REPOSITORY_ROOT / project)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(module)


def _bootstrap(frame: pd.DataFrame, size: int, rng: np.random.Generator) -> pd.DataFrame:
    return frame.iloc[rng.integers(0, len(frame), size)].reset_index(drop=True)


def iris_case() -> Case:
    """The default training split's four measurements; petals 30 % larger as the shift."""
    core = _import("iris", "iris_workflow.core")
    data = _import("iris", "iris_workflow.data")
    params = core.TrainParams()
    frame = data.read_iris_csv(data.resolve_data_path(data.DEFAULT_DATA_PATH))
    train, _ = core.split_frame(frame, params.test_size, params.random_state)
    inputs = core.monitored_features(train)
    profile = core.reference_profile(train, params.random_state)

    def larger_petals(rng: np.random.Generator) -> pd.DataFrame:
        batch = _bootstrap(inputs, 50, rng)
        batch[["petal_length", "petal_width"]] *= 1.3
        return batch

    return Case(
        "iris",
        profile,
        inputs,
        (50, 150, 1000),
        (("50 flowers, petals 30 % larger", larger_petals),),
    )


def gold_case() -> Case:
    """The engineered features of the history up to the cut-off; the 2025 bars as the shift."""
    steps = _import("gold_prices", "gold_workflow.steps")
    live = _import("gold_prices", "gold_workflow.live")
    data = _import("gold_prices", "gold_workflow.data")
    core = _import("gold_prices", "gold_workflow.core")
    params = core.TrainParams()
    history = steps.read_history(params, "", "", GOLD_CUTOFF)
    profile = live.reference_profile(history.features, history.split.usable, params.random_state)
    inputs = history.features.iloc[history.split.usable][list(core.NUMERIC_FEATURES)]
    prices, _ = core.drop_partial_last_bar(data.read_gold_csv(data.locate("", "").path))
    after = prices[prices[core.DATE] > pd.Timestamp(GOLD_CUTOFF)]
    # The 2025 bars, each with its 63 bars of look-back (which come from 2024).
    start = prices.index.get_loc(after.index[0]) - (core.MIN_HISTORY - 1)
    batch_2025 = live.monitored_features(prices.iloc[start:].reset_index(drop=True))
    return Case(
        "gold_prices",
        profile,
        inputs.reset_index(drop=True),
        (63, 250),
        ((f"the {len(batch_2025)} bars after {GOLD_CUTOFF}", lambda rng: batch_2025),),
        window=63,
    )


def cities_case() -> Case:
    """The pinned city table; a Europe-only release, and a 3 °C warmer catalog."""
    monitoring = _import("cities", "cities_workflow.monitoring")
    data = _import("cities", "cities_workflow.data")
    schema = _import("cities", "cities_workflow.schema")
    params = _import("cities", "cities_workflow.params").TrainParams()
    cities = data.read_cities_csv(data.locate("", "").path)
    profile = monitoring.reference_profile(cities, params.random_state)
    inputs = monitoring.profiled_columns(cities)

    def warmer(rng: np.random.Generator) -> pd.DataFrame:
        batch = inputs.copy()
        batch[list(schema.TEMPERATURE_COLUMNS)] += 3.0
        return batch

    europe = inputs[inputs["region"] == "europe"].reset_index(drop=True)
    return Case(
        "cities",
        profile,
        inputs,
        (100, len(inputs)),
        (
            (f"the {len(europe)} European cities alone", lambda rng: europe),
            ("every monthly temperature 3 °C warmer", warmer),
        ),
    )


CASES: dict[str, Callable[[], Case]] = {
    "iris": iris_case,
    "gold_prices": gold_case,
    "cities": cities_case,
}


def windows(case: Case) -> WindowFigure | None:
    """A series' own consecutive windows through the drift verdict."""
    from lifecycle.monitor.drift import drift_report

    if not case.window:
        return None
    starts = range(0, len(case.inputs) - case.window + 1, case.window)
    raised = sum(
        drift_report(
            case.profile, case.inputs.iloc[start : start + case.window], ALPHA, DRIFT_SHARE
        ).drifted
        for start in starts
    )
    return WindowFigure(case.project, case.window, len(starts), int(raised))


def calibrate(case: Case, batches: int, seed: int) -> tuple[list[NullFigure], list[ShiftFigure]]:
    """Null batches at each size, and each shifted batch, through the drift verdict."""
    from lifecycle.monitor.drift import drift_report

    rng = np.random.default_rng(seed)
    nulls = []
    for size in case.sizes:
        raised = sum(
            drift_report(
                case.profile, _bootstrap(case.inputs, size, rng), ALPHA, DRIFT_SHARE
            ).drifted
            for _ in range(batches)
        )
        nulls.append(NullFigure(case.project, size, batches, int(raised)))
    shifts = []
    for what, make in case.shifted:
        batch = make(rng)
        report = drift_report(case.profile, batch, ALPHA, DRIFT_SHARE)
        tested = sum(1 for f in report.features if not np.isnan(f.p_value))
        shifts.append(
            ShiftFigure(
                case.project, what, len(batch), len(report.drifted_features), tested, report.drifted
            )
        )
    return nulls, shifts


def table(
    nulls: list[NullFigure], shifts: list[ShiftFigure], series: Sequence[WindowFigure] = ()
) -> str:
    """Every kind of figure as one Markdown table."""
    lines = [
        "| project | batches | rows each | drift raised | on how many features |",
        "|---|---|---|---|---|",
    ]
    for null in nulls:
        lines.append(
            f"| {null.project} | {null.batches} bootstrap batches of the training inputs | "
            f"{null.size} | {null.raised} of {null.batches} ({null.rate:.0%}) | - |"
        )
    for window in series:
        lines.append(
            f"| {window.project} | {window.windows} consecutive windows of the training "
            f"inputs (its own regimes) | {window.size} | {window.raised} of {window.windows} "
            f"({window.raised / window.windows:.0%}) | - |"
        )
    for shift in shifts:
        lines.append(
            f"| {shift.project} | shifted: {shift.what} | {shift.rows} | "
            f"{'yes' if shift.raised else 'no'} | {shift.drifted} of {shift.tested} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.calibration", description=__doc__)
    parser.add_argument("--batches", type=int, default=100, help="null batches per size")
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
        more_nulls, more_shifts = calibrate(case, args.batches, args.seed)
        nulls += more_nulls
        shifts += more_shifts
        window = windows(case)
        if window is not None:
            series.append(window)
    sys.stdout.write(table(nulls, shifts, series))


if __name__ == "__main__":
    main()

"""The calibration the README quotes (``python -m bench.calibration``), checked on the
real training inputs: drift is raised on at most 5 % of bootstrap batches drawn from
them, and on each project's documented shifted batch. Not timed."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy.stats import binomtest

from bench import calibration


@pytest.mark.parametrize("project", sorted(calibration.CASES))
def test_drift_is_rare_on_fresh_batches_and_raised_on_the_documented_shifts(
    project: str, datasets_mirror: Path
) -> None:
    case = calibration.CASES[project]()
    nulls, shifts = calibration.calibrate(case, batches=40, seed=1)
    fresh = [null for null in nulls if null.how == "split halves"]
    # Batches drawn without replacement from the other half: a fresh sample.
    drawn = [null for null in fresh if null.size <= len(case.inputs) - len(case.inputs) // 2]
    assert drawn
    # At most 5 % false alarms: a one-sided binomial test of "more than 5 %" on the
    # batches drawn does not reject it at 1 % (the figure, not a looser bound).
    for null in [*drawn, *(null for null in nulls if null.how == "bootstrap")]:
        assert binomtest(null.raised, null.batches, 0.05, alternative="greater").pvalue > 0.01, null
    assert min(case.sizes) >= calibration.SMALLEST_CALIBRATED_BATCH
    for shift in shifts:
        if "+ 0.5 sd" in shift.what:
            continue  # the weak one-feature shift: its rate is reported, not promised
        assert shift.rate >= 0.9, shift
    if project == "cities":
        # The whole catalog 3 °C warmer moves 12 of 28 features: under half, which the
        # share rule called "no drift".
        (warmer,) = [shift for shift in shifts if shift.what.startswith("the whole catalog")]
        assert warmer.raised == 1
        assert warmer.drifted >= 1


def test_a_series_own_windows_are_counted_apart() -> None:
    import numpy as np
    import pandas as pd

    steady = pd.DataFrame({"x": np.random.default_rng(0).normal(size=400)})
    trending = pd.DataFrame({"x": np.arange(400.0)})
    for frame, raised in ((steady, 0), (trending, 4)):
        case = calibration.Case("demo", frame, ("x",), (), (), window=100)
        assert calibration.windows(case) == calibration.WindowFigure("demo", 100, 4, raised)


def test_the_table_reads_as_the_readme_quotes_it() -> None:
    text = calibration.table(
        [
            calibration.NullFigure("iris", "split halves", 50, 100, 3),
            calibration.NullFigure("iris", "bootstrap", 50, 100, 1),
        ],
        [calibration.ShiftFigure("iris", "petals 30 % larger", 50, 100, 97, 2, 4)],
        [calibration.WindowFigure("gold_prices", 63, 82, 46)],
    )
    assert "| gold_prices | 82 consecutive windows of the training inputs" in text
    assert "| 63 | 46 of 82 (56%) | - |" in text
    assert (
        "| iris | null, split halves: 100 batches from the other half of the training inputs "
        "| 50 | 3 of 100 (3%) | - |" in text
    )
    shifted = "| iris | shifted, 100 batches: petals 30 % larger | 50 | 97 of 100 (97%) | 2 of 4 |"
    assert shifted in text

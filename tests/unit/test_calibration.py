"""The calibration the README quotes (``python -m bench.calibration``), checked on the
real training inputs: drift is raised on at most 5 % of bootstrap batches drawn from
them, and on each project's documented shifted batch. Not timed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import calibration


@pytest.mark.parametrize("project", sorted(calibration.CASES))
def test_drift_is_rare_on_the_training_inputs_and_raised_on_the_documented_shift(
    project: str, datasets_mirror: Path
) -> None:
    nulls, shifts = calibration.calibrate(calibration.CASES[project](), batches=50, seed=1)
    assert nulls
    assert all(null.batches == 50 for null in nulls)
    assert all(null.rate <= 0.05 for null in nulls), nulls
    documented = shifts[0]
    assert documented.raised, documented
    if project == "cities":
        # A warmer catalog moves the 12 temperatures only: fewer than half the features,
        # so the batch verdict stays "no drift" though each of them is flagged.
        (warmer,) = shifts[1:]
        assert not warmer.raised
        assert warmer.drifted == 12


def test_a_series_own_windows_are_counted_apart() -> None:
    import numpy as np
    import pandas as pd

    from lifecycle.monitor.drift import build_profile

    steady = pd.DataFrame({"x": np.random.default_rng(0).normal(size=400)})
    trending = pd.DataFrame({"x": np.arange(400.0)})
    for frame, raised in ((steady, 0), (trending, 4)):
        case = calibration.Case(
            "demo", build_profile(frame, numeric=("x",)), frame, (), (), window=100
        )
        assert calibration.windows(case) == calibration.WindowFigure("demo", 100, 4, raised)


def test_the_table_reads_as_the_readme_quotes_it() -> None:
    text = calibration.table(
        [calibration.NullFigure("iris", 50, 100, 1)],
        [calibration.ShiftFigure("iris", "petals 30 % larger", 50, 2, 4, True)],
        [calibration.WindowFigure("gold_prices", 63, 82, 46)],
    )
    assert "| gold_prices | 82 consecutive windows of the training inputs" in text
    assert "| 63 | 46 of 82 (56%) | - |" in text
    assert (
        "| iris | 100 bootstrap batches of the training inputs | 50 | 1 of 100 (1%) | - |" in text
    )
    assert "| iris | shifted: petals 30 % larger | 50 | yes | 2 of 4 |" in text

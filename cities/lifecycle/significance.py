# Generated from lifecycle/significance.py by python -m lifecycle.sync; edit the source.
"""Paired significance tests for promotion: is a challenger better than the champion on
the same rows, or is it noise? Pure functions over two aligned loss vectors (lower is
better), each returning a ``PairedTest`` with its statistic and one-sided p-value.

- ``mcnemar_exact``: 0/1 losses (a wrong answer is 1). The exact McNemar test is the
  binomial test on the discordant rows (scipy's ``binomtest``): under "no difference"
  each discordant row favours the challenger with probability 1/2.
- ``diebold_mariano``: real-valued losses of ``horizon``-step forecasts. The mean loss
  differential over its long-run standard error, the variance summing the
  autocovariances up to lag ``horizon - 1`` (overlapping forecasts share shocks;
  statsmodels' HAC estimator with the uniform kernel), then the Harvey-Leybourne-Newbold
  (1997) small-sample correction, against Student's t with T - 1 degrees of freedom.
- ``paired_t_test``: real-valued losses on independent rows (scipy's ``ttest_rel``).
- ``wilcoxon_signed_rank``: real-valued losses on a handful of units (the cities
  profiles), scipy's exact signed-rank test, with no normality assumption.

Every test answers p = 1 when the two agree on every row: nothing favours the
challenger, so nothing can promote it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MCNEMAR = "exact McNemar"
DIEBOLD_MARIANO = "Diebold-Mariano (HLN)"
WILCOXON = "Wilcoxon signed-rank"
PAIRED_T = "paired t-test"


@dataclass(frozen=True)
class PairedTest:
    """One test of "the challenger's loss is lower" on paired rows.

    ``better`` and ``worse`` count the rows where the challenger's loss is lower and
    higher; ``note`` says anything that changed how the test was computed."""

    test: str
    statistic: float
    p_value: float
    rows: int
    better: int
    worse: int
    note: str = ""

    def describe(self) -> str:
        """The test in one clause: its name, the rows and the one-sided p-value."""
        note = f"; {self.note}" if self.note else ""
        return (
            f"{self.test} on {self.rows} paired rows ({self.better} better, {self.worse} worse"
            f"{note}): one-sided p={format_p(self.p_value)}"
        )


def format_p(p_value: float) -> str:
    """A p-value as text: four significant digits, small ones in scientific notation."""
    if not math.isfinite(p_value):
        return "undefined"
    return f"{p_value:.4g}" if p_value >= 1e-4 else f"{p_value:.2e}"


def _pair(challenger: np.ndarray, champion: np.ndarray) -> tuple[np.ndarray, int, int]:
    """The loss differentials (champion - challenger: positive favours the challenger)
    and the counts of rows each way; refuses vectors that cannot be paired."""
    challenger = np.asarray(challenger, dtype="float64")
    champion = np.asarray(champion, dtype="float64")
    if challenger.shape != champion.shape or challenger.ndim != 1:
        raise ValueError(
            f"paired losses must be two vectors of one length; got {challenger.shape} "
            f"and {champion.shape}"
        )
    if challenger.size == 0:
        raise ValueError("there are no paired rows to test")
    if not (np.isfinite(challenger).all() and np.isfinite(champion).all()):
        raise ValueError("the paired losses must be finite numbers")
    difference = champion - challenger
    return difference, int((difference > 0).sum()), int((difference < 0).sum())


def mcnemar_exact(challenger_loss: np.ndarray, champion_loss: np.ndarray) -> PairedTest:
    """One-sided exact McNemar test on 0/1 losses: the statistic is the number of rows
    only the challenger gets right, against Binomial(discordant rows, 1/2)."""
    from scipy.stats import binomtest

    difference, better, worse = _pair(challenger_loss, champion_loss)
    if not np.isin(challenger_loss, (0.0, 1.0)).all() or not np.isin(champion_loss, (0, 1)).all():
        raise ValueError("McNemar's test takes 0/1 losses (1 = a wrong answer)")
    discordant = better + worse
    p_value = 1.0 if discordant == 0 else binomtest(better, discordant, 0.5, "greater").pvalue
    return PairedTest(MCNEMAR, float(better), float(p_value), difference.size, better, worse)


def hln_factor(rows: int, horizon: int) -> float:
    """Harvey, Leybourne and Newbold's small-sample correction of the DM statistic,
    sqrt((T + 1 - 2h + h(h - 1) / T) / T)."""
    inside = (rows + 1 - 2 * horizon + horizon * (horizon - 1) / rows) / rows
    if rows <= horizon or inside <= 0:
        raise ValueError(f"{rows} paired rows are too few for a {horizon}-step horizon")
    return math.sqrt(inside)


def long_run_standard_error(difference: np.ndarray, horizon: int) -> tuple[float, str]:
    """The standard error of the mean differential: the HAC estimate with the uniform
    kernel up to lag ``horizon - 1`` (the DM variance); when that sum of autocovariances
    is not positive, the Bartlett (Newey-West) kernel, which always is, and a note."""
    import statsmodels.api as sm

    constant = np.ones_like(difference)
    for kernel in ("uniform", "bartlett"):
        fitted = sm.OLS(difference, constant).fit(
            cov_type="HAC",
            cov_kwds={"maxlags": horizon - 1, "kernel": kernel, "use_correction": False},
        )
        variance = float(np.asarray(fitted.cov_params())[0, 0])
        if variance > 0 and math.isfinite(variance):
            note = "" if kernel == "uniform" else "Bartlett variance (the uniform one was not > 0)"
            return math.sqrt(variance), note
    return 0.0, ""


def diebold_mariano(
    challenger_loss: np.ndarray, champion_loss: np.ndarray, horizon: int
) -> PairedTest:
    """One-sided Diebold-Mariano test with the HLN correction: is the challenger's mean
    loss lower? ``horizon`` is the forecast horizon in steps (1 for one-step forecasts)."""
    from scipy.stats import t as student_t

    if horizon < 1:
        raise ValueError(f"the horizon must be at least 1 step, got {horizon}")
    difference, better, worse = _pair(challenger_loss, champion_loss)
    rows = difference.size
    factor = hln_factor(rows, horizon)
    if not difference.any():
        return PairedTest(DIEBOLD_MARIANO, 0.0, 1.0, rows, better, worse)
    error, note = long_run_standard_error(difference, horizon)
    if error == 0.0:
        # Every differential equal and not zero: a sure, constant edge one way.
        statistic = math.copysign(math.inf, float(difference.mean()))
        p_value = 0.0 if statistic > 0 else 1.0
        return PairedTest(DIEBOLD_MARIANO, statistic, p_value, rows, better, worse, note)
    statistic = factor * float(difference.mean()) / error
    p_value = float(student_t.sf(statistic, df=rows - 1))
    return PairedTest(DIEBOLD_MARIANO, statistic, p_value, rows, better, worse, note)


def paired_t_test(challenger_loss: np.ndarray, champion_loss: np.ndarray) -> PairedTest:
    """One-sided paired t-test (scipy's ``ttest_rel``) of a lower mean loss: for
    independent rows, the Diebold-Mariano test with a one-step horizon and the HLN
    correction is exactly this test."""
    from scipy.stats import ttest_rel

    difference, better, worse = _pair(challenger_loss, champion_loss)
    if better + worse == 0:
        return PairedTest(PAIRED_T, 0.0, 1.0, difference.size, better, worse)
    if np.all(difference == difference[0]):
        p_value = 0.0 if difference[0] > 0 else 1.0
        statistic = math.copysign(math.inf, float(difference[0]))
        return PairedTest(PAIRED_T, statistic, p_value, difference.size, better, worse)
    result = ttest_rel(champion_loss, challenger_loss, alternative="greater")
    return PairedTest(
        PAIRED_T, float(result.statistic), float(result.pvalue), difference.size, better, worse
    )


def wilcoxon_signed_rank(challenger_loss: np.ndarray, champion_loss: np.ndarray) -> PairedTest:
    """One-sided Wilcoxon signed-rank test: do the differentials favour the challenger?
    Rows where the two agree are dropped (Wilcoxon's own rule)."""
    from scipy.stats import wilcoxon

    difference, better, worse = _pair(challenger_loss, champion_loss)
    if better + worse == 0:
        return PairedTest(WILCOXON, 0.0, 1.0, difference.size, better, worse)
    result = wilcoxon(difference, zero_method="wilcox", alternative="greater")
    return PairedTest(
        WILCOXON, float(result.statistic), float(result.pvalue), difference.size, better, worse
    )


# Live against measured: two independent samples, "is the live loss higher?"
FISHER_EXACT = "Fisher's exact"
MANN_WHITNEY = "Mann-Whitney U"


@dataclass(frozen=True)
class TwoSampleTest:
    """One test of "the live loss is higher than the measured one" on two independent
    samples: the live rows and the rows the model was measured on."""

    test: str
    statistic: float
    p_value: float
    live_rows: int
    reference_rows: int

    def describe(self) -> str:
        return (
            f"{self.test} on {self.live_rows} live and {self.reference_rows} measured rows: "
            f"one-sided p={format_p(self.p_value)}"
        )


def fisher_exact_worse(
    live_wrong: int, live_rows: int, measured_wrong: int, measured_rows: int
) -> TwoSampleTest:
    """One-sided Fisher's exact test (scipy) that the live error rate is higher than the
    measured one; the statistic is the sample odds ratio of an error, live over measured."""
    from scipy.stats import fisher_exact

    if live_rows < 1 or measured_rows < 1:
        raise ValueError("both samples need at least one row")
    for wrong, rows in ((live_wrong, live_rows), (measured_wrong, measured_rows)):
        if not 0 <= wrong <= rows:
            raise ValueError(f"{wrong} wrong answers out of {rows} rows")
    table = [[live_wrong, live_rows - live_wrong], [measured_wrong, measured_rows - measured_wrong]]
    result = fisher_exact(table, alternative="greater")
    return TwoSampleTest(
        FISHER_EXACT, float(result.statistic), float(result.pvalue), live_rows, measured_rows
    )


def mann_whitney_worse(live_loss: np.ndarray, measured_loss: np.ndarray) -> TwoSampleTest:
    """One-sided Mann-Whitney U test (scipy) that live losses tend to be higher than the
    measured ones; the statistic is U of the live sample."""
    from scipy.stats import mannwhitneyu

    live = np.asarray(live_loss, dtype="float64")
    measured = np.asarray(measured_loss, dtype="float64")
    if live.size < 1 or measured.size < 1:
        raise ValueError("both samples need at least one row")
    if not (np.isfinite(live).all() and np.isfinite(measured).all()):
        raise ValueError("every loss must be a finite number")
    result = mannwhitneyu(live, measured, alternative="greater")
    return TwoSampleTest(
        MANN_WHITNEY, float(result.statistic), float(result.pvalue), live.size, measured.size
    )

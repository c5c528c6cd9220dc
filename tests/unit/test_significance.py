"""The paired tests of lifecycle.significance against known values: exact binomial sums
worked by hand, the identities that tie DM to the paired t-test, statsmodels' own
two-sided McNemar, and the DM long-run variance computed from its textbook formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from lifecycle import significance
from lifecycle.register import evidence


def _losses(better: int, worse: int, ties: int) -> tuple[np.ndarray, np.ndarray]:
    challenger = [0.0] * better + [1.0] * worse + [0.0] * ties
    champion = [1.0] * better + [0.0] * worse + [0.0] * ties
    return np.array(challenger), np.array(champion)


def test_exact_mcnemar_is_the_binomial_tail_of_the_discordant_rows() -> None:
    # 10 rows only the challenger gets right, 2 only the champion: P(X >= 10 | Bin(12, 1/2))
    # = (C(12,10) + C(12,11) + C(12,12)) / 2**12 = (66 + 12 + 1) / 4096.
    result = significance.mcnemar_exact(*_losses(10, 2, 33))
    assert result.p_value == pytest.approx(79 / 4096)
    assert (result.better, result.worse, result.rows) == (10, 2, 45)
    assert result.statistic == 10


def test_exact_mcnemar_one_sided_is_half_of_statsmodels_two_sided() -> None:
    from statsmodels.stats.contingency_tables import mcnemar

    for better, worse in ((7, 1), (15, 3), (4, 0)):
        one_sided = significance.mcnemar_exact(*_losses(better, worse, 20)).p_value
        table = [[20, better], [worse, 0]]
        assert one_sided == pytest.approx(mcnemar(table, exact=True).pvalue / 2)


def test_no_discordant_row_gives_p_one() -> None:
    same = np.array([0.0, 1.0, 0.0, 1.0])
    for test in (
        significance.mcnemar_exact(same, same),
        significance.diebold_mariano(same, same, 1),
        significance.wilcoxon_signed_rank(same, same),
        significance.paired_t_test(same, same),
    ):
        assert test.p_value == 1.0
        assert test.better == test.worse == 0


def test_a_worse_challenger_has_a_large_p_value() -> None:
    assert significance.mcnemar_exact(*_losses(0, 5, 10)).p_value == 1.0
    assert significance.mcnemar_exact(*_losses(1, 5, 10)).p_value > 0.9


def test_mcnemar_refuses_losses_that_are_not_zero_or_one() -> None:
    with pytest.raises(ValueError, match="0/1 losses"):
        significance.mcnemar_exact(np.array([0.5, 1.0]), np.array([0.0, 1.0]))


def test_dm_with_one_step_and_the_hln_correction_is_the_paired_t_test() -> None:
    # HLN's factor for h = 1 is sqrt((T - 1) / T), which turns DM's variance (divisor T)
    # into the sample variance (divisor T - 1): the corrected statistic is the t statistic.
    rng = np.random.default_rng(7)
    champion = rng.gamma(2.0, 1.0, 120)
    challenger = champion - rng.normal(0.1, 0.5, 120)
    dm = significance.diebold_mariano(challenger, champion, 1)
    t = stats.ttest_rel(champion, challenger, alternative="greater")
    assert dm.statistic == pytest.approx(t.statistic)
    assert dm.p_value == pytest.approx(t.pvalue)
    assert significance.paired_t_test(challenger, champion).p_value == pytest.approx(t.pvalue)


def test_dm_sums_the_autocovariances_up_to_the_horizon_less_one() -> None:
    rng = np.random.default_rng(3)
    shocks = rng.normal(0, 1, 204)
    difference = 0.15 + shocks[4:] + shocks[3:-1] + shocks[2:-2]  # MA(2): overlap of h = 3
    champion = np.abs(rng.normal(0, 1, 200)) + 5.0
    challenger = champion - difference
    horizon, rows = 3, 200
    centred = difference - difference.mean()
    gamma = [float(np.sum(centred[k:] * centred[: rows - k]) / rows) for k in range(horizon)]
    long_run = gamma[0] + 2 * sum(gamma[1:])
    dm = difference.mean() / math.sqrt(long_run / rows)
    hln = math.sqrt((rows + 1 - 2 * horizon + horizon * (horizon - 1) / rows) / rows)
    result = significance.diebold_mariano(challenger, champion, horizon)
    assert result.statistic == pytest.approx(dm * hln)
    assert result.p_value == pytest.approx(stats.t.sf(dm * hln, df=rows - 1))
    assert result.note == ""


def test_dm_falls_back_to_bartlett_when_the_uniform_variance_is_not_positive() -> None:
    # Strongly alternating differentials: the lag-1 autocovariance cancels gamma_0.
    difference = np.array([1.0, -0.8] * 20) + 0.05
    champion = np.full(40, 5.0)
    result = significance.diebold_mariano(champion - difference, champion, 2)
    assert "Bartlett" in result.note
    assert 0.0 <= result.p_value <= 1.0


def test_dm_refuses_too_few_rows_for_the_horizon() -> None:
    with pytest.raises(ValueError, match="too few"):
        significance.diebold_mariano(np.zeros(3), np.ones(3), 5)


def test_wilcoxon_matches_its_exact_null_distribution() -> None:
    # Nine profiles, all in the challenger's favour: the one arrangement in 2**9.
    champion = np.linspace(0.5, 0.9, 9)
    result = significance.wilcoxon_signed_rank(champion - np.arange(1, 10) / 100, champion)
    assert result.p_value == pytest.approx(1 / 512)
    # Eight for, the smallest one against: W+ = 44 of 45, P(W+ >= 44) = 2 / 512.
    mixed = champion - np.array([-1, 2, 3, 4, 5, 6, 7, 8, 9]) / 100
    assert significance.wilcoxon_signed_rank(mixed, champion).p_value == pytest.approx(2 / 512)


def test_the_description_names_the_test_the_rows_and_the_p_value() -> None:
    text = significance.mcnemar_exact(*_losses(10, 2, 33)).describe()
    assert text == "exact McNemar on 45 paired rows (10 better, 2 worse): one-sided p=0.01929"


def test_evidence_pairs_only_the_same_rows() -> None:
    import pandas as pd

    mine = pd.DataFrame({"row_id": ["a", "b"], "truth": 1, "prediction": 1, "loss": [0.0, 1.0]})
    theirs = mine.assign(loss=[1.0, 1.0])
    paired = evidence.paired(mine, theirs.iloc[::-1])
    assert paired.set_index("row_id")["champion_loss"].to_dict() == {"a": 1.0, "b": 1.0}
    with pytest.raises(evidence.EvidenceError, match="different rows"):
        evidence.paired(mine, theirs.assign(row_id=["a", "c"]))
    assert evidence.from_csv(evidence.to_csv(mine))["row_id"].tolist() == ["a", "b"]
    with pytest.raises(evidence.EvidenceError, match="lacks column"):
        evidence.check(mine.drop(columns=["loss"]))

"""Unit tests of the champion rule (lifecycle.promotion): no I/O, tiny values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifecycle import significance
from lifecycle.register.evidence import EvidenceError
from lifecycle.register.rule import ChampionRule as Rule
from lifecycle.register.rule import (
    ChampionState,
    Measurement,
    contest_winner,
    format_value,
    verdict,
)

SPLIT = "data_sha256=abc test_size=0.3 random_state=42"


def rule(metric: str = "accuracy", higher: bool = True, alpha: float = 0.05) -> Rule:
    return Rule(metric, higher, significance.MCNEMAR, significance.mcnemar_exact, alpha)


def pairs(challenger: list[float], champion: list[float]):
    frame = pd.DataFrame(
        {
            "row_id": [str(i) for i in range(len(challenger))],
            "challenger_loss": challenger,
            "champion_loss": champion,
        }
    )
    return lambda: frame


@pytest.mark.parametrize(
    ("value", "champion", "champion_value", "promote"),
    [
        (0.95, None, None, True),  # no champion yet
        (0.95, "3", 0.95, False),  # a tie keeps the champion
        (0.96, "3", 0.95, True),
        (0.94, "3", 0.95, False),
        (0.94, "3", None, False),  # champion value unknown: never promote over it
        (0.99, "3", None, False),
    ],
)
def test_with_the_test_off_the_champion_moves_only_to_a_strictly_better_model(
    value: float, champion: str | None, champion_value: float | None, promote: bool
) -> None:
    state = None
    if champion is not None:
        known = None if champion_value is None else Measurement(champion_value, SPLIT)
        state = ChampionState(champion, known, "" if known else "no gate value")
    result = verdict(Measurement(value, SPLIT), state, rule(alpha=1.0))
    assert result.promote is promote
    assert result.test is None
    if champion is not None:
        assert f"champion version {champion}" in result.clause


def test_a_clearly_better_challenger_is_promoted_with_its_p_value() -> None:
    champion = ChampionState("1", Measurement(0.60, SPLIT))
    result = verdict(Measurement(0.95, SPLIT), champion, rule(), pairs([0.0] * 10, [1.0] * 10))
    assert result.promote
    assert result.decision == "promoted"
    assert result.test is not None
    assert result.test.p_value == pytest.approx(0.5**10)
    assert "significantly better" in result.clause
    assert "exact McNemar on 10 paired rows (10 better, 0 worse)" in result.clause


def test_a_challenger_better_on_a_few_rows_only_is_kept_out() -> None:
    champion = ChampionState("1", Measurement(0.93, SPLIT))
    challenger = [0.0, 0.0] + [0.0] * 40
    holder = [1.0, 1.0] + [0.0] * 40
    result = verdict(Measurement(0.98, SPLIT), champion, rule(), pairs(challenger, holder))
    assert not result.promote
    assert result.decision == "kept"
    assert result.test is not None
    assert result.test.p_value == pytest.approx(0.25)
    assert "better than champion version 1" in result.clause
    assert "not significantly better, champion kept" in result.clause
    # ... which the old rule, promotion_alpha=1, would have promoted.
    off = verdict(Measurement(0.98, SPLIT), champion, rule(alpha=1.0), pairs(challenger, holder))
    assert off.promote


def test_no_discordant_rows_give_p_one_and_keep_the_champion() -> None:
    champion = ChampionState("1", Measurement(0.93, SPLIT))
    same = [0.0, 1.0, 0.0, 0.0]
    result = verdict(Measurement(0.93, SPLIT), champion, rule(), pairs(same, same))
    assert not result.promote
    assert result.test is not None
    assert result.test.p_value == 1.0
    assert "ties champion version 1" in result.clause


def test_evidence_that_cannot_be_paired_keeps_the_champion_with_the_reason() -> None:
    champion = ChampionState("1", Measurement(0.60, SPLIT))

    def broken() -> pd.DataFrame:
        raise EvidenceError("the two evidence tables hold different rows")

    result = verdict(Measurement(0.95, SPLIT), champion, rule(), broken)
    assert not result.promote
    assert "cannot be run (the two evidence tables hold different rows)" in result.clause


def test_values_measured_on_other_data_are_not_compared() -> None:
    champion = ChampionState("2", Measurement(0.90, SPLIT))
    other_split = "data_sha256=abc test_size=0.5 random_state=42"
    result = verdict(Measurement(0.99, other_split), champion, rule())
    assert not result.promote
    assert "other data" in result.clause
    assert "test_size=0.5" in result.clause


def test_lower_is_better_and_nan_never_wins() -> None:
    mase = rule("mase", higher=False, alpha=1.0)
    champion = ChampionState("3", Measurement(0.99, "days"))
    assert verdict(Measurement(0.97, "days"), champion, mase).promote
    assert not verdict(Measurement(0.995, "days"), champion, mase).promote
    assert not verdict(Measurement(math.nan, "days"), champion, mase).promote
    infinite = ChampionState("3", Measurement(math.inf, "days"))
    result = verdict(Measurement(0.5, "days"), infinite, mase)
    assert not result.promote
    assert "cannot be established" in result.clause


def test_a_significant_test_never_promotes_a_worse_value() -> None:
    # Losses favour the challenger, but its recorded value is worse: doubt keeps the champion.
    champion = ChampionState("1", Measurement(0.95, SPLIT))
    result = verdict(Measurement(0.90, SPLIT), champion, rule(), pairs([0.0] * 10, [1.0] * 10))
    assert not result.promote
    assert "is not better" in result.clause


def test_format_value_says_infinite_and_undefined() -> None:
    assert format_value(math.inf) == "infinite"
    assert format_value(math.nan) == "undefined (nan)"
    assert format_value(0.123456) == "0.1235"
    assert format_value(1e308) == "1e+308"
    assert format_value(3e-9) == "3e-09"


def test_contest_gives_every_racer_the_same_winner() -> None:
    strength = {"2": 0.5, "5": 0.97, "6": 0.93}

    def beats(candidate: str, holder: str) -> bool:
        return strength[candidate] > strength[holder] + 0.01

    assert contest_winner(None, ["6", "5"], beats) == "5"
    assert contest_winner(None, ["5", "6"], beats) == "5"
    # the worse one already holds the alias: the better one still takes it
    assert contest_winner("6", ["6", "5"], beats) == "5"
    # a holder nobody beats keeps the title
    assert contest_winner("5", ["6"], beats) == "5"
    # replayed in version order: the first becomes holder, a later one must beat it
    assert contest_winner(None, ["6", "2"], beats) == "6"
    assert contest_winner(None, [], beats) is None


def test_the_rule_names_its_test_or_says_it_is_off() -> None:
    assert rule().label == "exact McNemar"
    assert rule(alpha=1.0).label.startswith("none (promotion_alpha=1")
    assert np.isclose(rule(alpha=0.01).alpha, 0.01)


# -- shared unseen rows ------------------------------------------------------------------


def evidence_frame(ids: list[str], losses: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"row_id": ids, "truth": 0, "prediction": 0, "loss": losses})


def test_pairing_leaves_out_every_row_either_model_trained_on_and_says_so() -> None:
    from lifecycle.register import shared

    ids = ["a", "b", "c", "d", "d#1"]
    paired = shared.pair_on_shared(
        evidence_frame(ids, [0, 0, 0, 1, 1]),
        evidence_frame(ids, [1, 1, 1, 1, 1]),
        trained_by_challenger=frozenset({"b"}),
        trained_by_champion=frozenset({"d", "zz"}),
    )
    assert paired["row_id"].tolist() == ["a", "c"]  # "d#1" is a copy of the row "d"
    described = paired.attrs[shared.DESCRIPTION]
    assert described.startswith(
        f"2 shared unseen rows (ids digest {shared.ids_digest(['a', 'c'])})"
    )
    assert "left out, of 5 proposed: 2 the champion trained on, 1 the challenger trained on" in (
        described
    )
    with pytest.raises(EvidenceError, match="different rows"):
        shared.pair_on_shared(
            evidence_frame(["a"], [0]), evidence_frame(["b"], [0]), frozenset(), frozenset()
        )


def test_row_digests_are_the_same_row_in_any_table() -> None:
    from lifecycle.register import shared

    one = pd.DataFrame({"x": [1, 2.5], "label": [" setosa", "virginica"]})
    other = pd.DataFrame({"x": [9.0, 1.0], "label": ["a", "setosa"]})
    assert (
        shared.frame_digests(one, ["x", "label"])[0]
        == shared.frame_digests(other, ["x", "label"])[1]
    )
    assert shared.unique_ids(["p", "q", "p", "p"]) == ["p", "q", "p#1", "p#2"]


def test_a_champion_measured_elsewhere_is_compared_on_shared_rows() -> None:
    from lifecycle.register import shared

    better = evidence_frame([str(i) for i in range(20)], [0.0] * 20)
    worse = evidence_frame([str(i) for i in range(20)], [1.0] * 10 + [0.0] * 10)

    def on_shared() -> pd.DataFrame:
        return shared.pair_on_shared(better, worse, frozenset(), frozenset())

    champion = ChampionState("1", Measurement(0.5, "older table"))
    result = verdict(Measurement(1.0, "newer table"), champion, rule(), None, on_shared)
    assert result.promote
    assert result.decision == "promoted"
    assert result.compared_on.startswith("20 shared unseen rows")
    assert "champion version 1 was measured on other data; on 20 shared unseen rows" in (
        result.clause
    )
    assert "mean loss 0.0000 is lower than its 0.5000" in result.clause
    assert result.test is not None
    assert result.test.p_value == pytest.approx(0.5**10)


def test_too_few_shared_unseen_rows_keep_the_champion_and_say_how_many() -> None:
    from lifecycle.register import shared

    few = evidence_frame(["a", "b", "c", "d"], [0.0] * 4)
    wrong = evidence_frame(["a", "b", "c", "d"], [1.0] * 4)

    def on_shared() -> pd.DataFrame:
        return shared.pair_on_shared(few, wrong, frozenset(), frozenset())

    champion = ChampionState("1", Measurement(0.5, "older table"))
    result = verdict(Measurement(1.0, "newer table"), champion, rule(), None, on_shared)
    assert not result.promote
    assert "only 4 shared unseen rows" in result.clause
    assert "needs at least 5 to decide" in result.clause  # 0.5**4 > 0.05
    assert result.clause.endswith("champion kept")

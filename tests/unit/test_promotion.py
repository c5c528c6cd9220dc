"""Unit tests of the champion rule (lifecycle.promotion): no I/O, tiny values."""

from __future__ import annotations

import math

import pytest

from lifecycle.promotion import ChampionState, Measurement, contest_winner, format_value, verdict

SPLIT = "data_sha256=abc test_size=0.3 random_state=42"


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
def test_champion_moves_only_to_a_strictly_better_model(
    value: float, champion: str | None, champion_value: float | None, promote: bool
) -> None:
    state = None
    if champion is not None:
        known = None if champion_value is None else Measurement(champion_value, SPLIT)
        state = ChampionState(champion, known, "" if known else "no gate value")
    result = verdict(Measurement(value, SPLIT), state, "accuracy", higher_is_better=True)
    assert result.promote is promote
    if champion is not None:
        assert f"champion version {champion}" in result.clause


def test_values_measured_on_other_data_are_not_compared() -> None:
    champion = ChampionState("2", Measurement(0.90, SPLIT))
    other_split = "data_sha256=abc test_size=0.5 random_state=42"
    result = verdict(Measurement(0.99, other_split), champion, "accuracy", True)
    assert not result.promote
    assert "other data" in result.clause
    assert "test_size=0.5" in result.clause


def test_lower_is_better_and_nan_never_wins() -> None:
    champion = ChampionState("3", Measurement(0.99, "days"))
    assert verdict(Measurement(0.97, "days"), champion, "mase", False).promote
    assert not verdict(Measurement(0.995, "days"), champion, "mase", False).promote
    assert not verdict(Measurement(math.nan, "days"), champion, "mase", False).promote
    infinite = ChampionState("3", Measurement(math.inf, "days"))
    result = verdict(Measurement(0.5, "days"), infinite, "mase", False)
    assert not result.promote
    assert "cannot be established" in result.clause


def test_format_value_says_infinite_and_undefined() -> None:
    assert format_value(math.inf) == "infinite"
    assert format_value(math.nan) == "undefined (nan)"
    assert format_value(0.123456) == "0.1235"
    assert format_value(1e308) == "1e+308"
    assert format_value(3e-9) == "3e-09"


def test_contest_gives_every_racer_the_same_winner() -> None:
    better, worse = ("5", Measurement(0.97, SPLIT)), ("6", Measurement(0.93, SPLIT))
    assert contest_winner(None, [worse, better], True) == "5"
    assert contest_winner(None, [better, worse], True) == "5"
    # the worse one already holds the alias: the better one still takes it
    assert contest_winner(worse, [worse, better], True) == "5"
    # a champion with an unknown value is never beaten
    assert contest_winner(("2", None), [better, worse], True) == "2"
    # nothing to compare: the newest passing version wins
    assert contest_winner(("2", None), [better, worse], None) == "6"

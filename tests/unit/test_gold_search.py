"""Unit tests of the gold tuning grid: parsing the grids, the configurations it holds,
their keys and digest, and the choice of the best trial. No MLflow, no Optuna run."""

from __future__ import annotations

import pytest

from gold_workflow import search, study
from gold_workflow.params import TrainParams, TuneParams
from lifecycle.errors import ParameterError


def space(**changes) -> search.SearchSpace:
    values = {
        "base": TrainParams(refit_every=63),
        "models": ("ridge", "linear_regression", "gradient_boosting"),
        "alphas": (0.1, 10.0),
        "n_estimators": (50,),
        "learning_rates": (0.05, 0.1),
        "max_depths": (2,),
    }
    return search.SearchSpace(**(values | changes))


def test_the_grid_holds_each_kind_with_its_own_values_in_a_fixed_order() -> None:
    configurations = space().configurations()
    assert [study.config_key(c) for c in configurations] == [
        "gradient_boosting n_estimators=50 learning_rate=0.05 max_depth=2",
        "gradient_boosting n_estimators=50 learning_rate=0.1 max_depth=2",
        "linear_regression",
        "ridge alpha=0.1",
        "ridge alpha=10",
    ]
    assert {c.refit_every for c in configurations} == {63}


@pytest.mark.parametrize(
    ("name", "text", "kind", "fragment"),
    [
        ("alpha_grid", "0.1,x", float, "'x' is not a float"),
        ("alpha_grid", " , ", float, "at least one value"),
        ("max_depth_grid", "2.5", int, "'2.5' is not a int"),
        ("alpha_grid", "inf", float, "not a finite number"),
    ],
)
def test_grids_that_are_not_lists_of_numbers_are_refused(
    name: str, text: str, kind: type, fragment: str
) -> None:
    with pytest.raises(ParameterError, match=fragment) as refused:
        search.parse_values(name, text, kind)
    assert refused.value.name == name


def test_grid_values_out_of_range_and_unknown_models_are_refused() -> None:
    assert search.parse_values("alpha_grid", "10, 0.1,10", float) == (0.1, 10.0)
    with pytest.raises(ParameterError, match="alpha"):
        space(alphas=(0.0,))
    with pytest.raises(ParameterError, match="models"):
        space(models=("lasso",))
    with pytest.raises(ParameterError, match="trials"):
        TuneParams(trials=0)
    with pytest.raises(ParameterError, match="engine"):
        TuneParams(engine="dask")
    with pytest.raises(ParameterError, match="study_name"):
        TuneParams(study_name="a name; with spaces")
    with pytest.raises(ParameterError, match="models"):
        TuneParams(models="ridge,lasso")
    with pytest.raises(ParameterError, match="alpha"):
        search.tune_job(TuneParams(models="ridge", alpha_grid="0,1"))
    job = search.tune_job(TuneParams(models="ridge", alpha_grid="1, 0.1"))
    assert job.space.alphas == (0.1, 1.0)
    assert job.space.base.horizon == 1


def test_the_best_trial_is_the_lowest_mase_and_ties_go_to_the_earlier_entry() -> None:
    assert search.best_trial([(3, 0.99), (1, 0.98), (2, 0.98), (0, float("nan"))]) == (1, 0.98)
    with pytest.raises(ValueError, match="finite"):
        search.best_trial([(0, float("inf"))])


def test_a_study_knows_its_grid_and_recipe() -> None:
    keys = [study.config_key(c) for c in space().configurations()]
    same = study.grid_digest(keys, TrainParams(refit_every=63))
    assert same == study.grid_digest(list(keys), TrainParams(refit_every=63))
    assert same != study.grid_digest(keys[:-1], TrainParams(refit_every=63))
    assert same != study.grid_digest(keys, TrainParams(refit_every=21))

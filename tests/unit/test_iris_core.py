"""Unit tests of iris_workflow.core on tiny in-memory tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from iris_workflow import core
from iris_workflow.scoring import IrisScorer
from lifecycle.errors import DataError
from lifecycle.score.rows import check_request, check_rows


def tiny_frame(rows_per_class: int = 4) -> pd.DataFrame:
    """Three well-separated classes: each class sits around its own feature value."""
    rows = []
    for offset, species in enumerate(["setosa", "versicolor", "virginica"]):
        for i in range(rows_per_class):
            base = 1.0 + 3.0 * offset + 0.1 * i
            rows.append([base, base + 0.5, base + 1.0, base + 1.5, species])
    return pd.DataFrame(rows, columns=[*core.FEATURES, core.TARGET])


# -- parameters -------------------------------------------------------------------------


def test_defaults_are_valid() -> None:
    params = core.TrainParams()
    assert params.model == "decision_tree"
    assert params.test_size == 0.3


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("max_depth", 0, "integer from 1 to 10000"),
        ("max_depth", -3, "integer from 1 to 10000"),
        ("max_depth", 400000000000000000000, "integer from 1 to 10000"),
        ("max_depth", 2.5, "must be an integer"),
        ("max_depth", True, "must be an integer"),
        ("max_leaf_nodes", 1, "integer from 2 to 10000"),
        ("C", 0.0, "a number > 0"),
        ("C", float("nan"), "a number > 0"),
        ("n_estimators", 0, "from 1 to 10000"),
        ("n_estimators", 10_001, "from 1 to 10000"),
        ("test_size", 1.5, "(0, 1)"),
        ("test_size", 0.0, "(0, 1)"),
        ("test_size", 1.0, "(0, 1)"),
        ("random_state", -1, "integer from 0 to 4294967295"),
        ("random_state", 2**32, "from 0 to 4294967295"),
        ("model", "xgboost", "decision_tree, logistic_regression, random_forest"),
    ],
)
def test_invalid_train_parameters_name_the_field_and_the_rule(
    field: str, value: object, fragment: str
) -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.TrainParams(**{field: value})
    assert caught.value.name == field
    assert fragment in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"metric": "auc"}, "gate_metric"),
        ({"threshold": 1.2}, "gate_threshold"),
        ({"threshold": -0.1}, "gate_threshold"),
    ],
)
def test_invalid_gate_parameters(kwargs: dict, name: str) -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.GateParams(**kwargs)
    assert caught.value.name == name


# -- data -------------------------------------------------------------------------------


def test_validate_frame_converts_text_to_floats_and_drops_extra_columns() -> None:
    raw = tiny_frame().astype(str).assign(extra="x")
    clean = core.validate_frame(raw)
    assert list(clean.columns) == [*core.FEATURES, core.TARGET]
    assert all(clean[column].dtype == np.float64 for column in core.FEATURES)


def test_validate_frame_rejects_missing_columns() -> None:
    raw = tiny_frame().drop(columns=["petal_width"])
    with pytest.raises(core.DataError, match="missing column\\(s\\) petal_width"):
        core.validate_frame(raw)


def test_validate_frame_names_column_and_rows_of_non_numeric_values() -> None:
    raw = tiny_frame().astype(object)
    raw.loc[2, "sepal_width"] = "abc"
    with pytest.raises(core.DataError) as caught:
        core.validate_frame(raw)
    message = str(caught.value)
    assert "'sepal_width'" in message
    assert "[3]" in message
    assert "'abc'" in message


def test_validate_frame_rejects_empty_table_missing_labels_and_single_class() -> None:
    with pytest.raises(core.DataError, match="no rows"):
        core.validate_frame(tiny_frame().iloc[0:0])
    blank = tiny_frame().astype(object)
    blank.loc[0, core.TARGET] = None
    with pytest.raises(core.DataError, match="empty in data row"):
        core.validate_frame(blank)
    with pytest.raises(core.DataError, match="at least two classes") as caught:
        core.validate_frame(tiny_frame().assign(species="setosa"))
    assert str(caught.value).endswith("found only setosa")  # no pandas array repr


def test_split_is_by_the_row_hash_and_complete() -> None:
    frame = tiny_frame(rows_per_class=10)
    train, test = core.split_frame(frame, test_size=0.3, random_state=7)
    assert len(train) + len(test) == len(frame)
    assert set(test[core.TARGET]) == set(train[core.TARGET]) == set(frame[core.TARGET])
    again_train, again_test = core.split_frame(frame, test_size=0.3, random_state=8)
    pd.testing.assert_frame_equal(test, again_test)  # the seed does not move a row
    pd.testing.assert_frame_equal(train, again_train)


def test_the_hash_split_is_stable_as_the_table_grows() -> None:
    """A row never moves from training into test when rows are added, and new rows
    join the held-out side by the same rule."""
    frame = tiny_frame(rows_per_class=10)
    grown = pd.concat([frame, tiny_frame(rows_per_class=12).tail(6)], ignore_index=True)
    grown = grown.assign(petal_length=grown["petal_length"] + np.r_[np.zeros(30), np.ones(6)])
    train, test = core.split_frame(frame, test_size=0.3)
    more_train, more_test = core.split_frame(grown.sample(frac=1, random_state=1), 0.3)
    digest = core.row_digests
    assert set(digest(train)) <= set(digest(more_train))
    assert set(digest(test)) <= set(digest(more_test))
    new_rows = grown.tail(6)
    held = core.held_out_mask(digest(new_rows), 0.3)
    assert set(digest(new_rows[held])) <= set(digest(more_test))
    assert not set(digest(more_test)) & set(digest(more_train))


def test_split_rejects_test_size_that_empties_a_side() -> None:
    with pytest.raises(core.ParameterError) as caught:
        core.split_frame(tiny_frame(), test_size=0.05, random_state=0)
    assert caught.value.name == "test_size"
    assert "held-out" in caught.value.allowed


def test_a_class_with_one_row_blames_the_data_in_plain_words() -> None:
    frame = tiny_frame()
    one_setosa = pd.concat([frame[frame[core.TARGET] != "setosa"], frame.head(1)])
    assert (one_setosa[core.TARGET] == "setosa").sum() == 1
    for test_size in (0.05, 0.3, 0.5):
        with pytest.raises(core.DataError) as caught:
            core.split_frame(one_setosa, test_size=test_size, random_state=0)
        message = str(caught.value)
        assert message.endswith("the data holds versicolor 4, virginica 4, setosa 1")
        assert "{" not in message  # no pandas / dict reprs


# -- models -----------------------------------------------------------------------------


def test_max_depth_takes_effect_on_the_default_model() -> None:
    frame = tiny_frame(rows_per_class=10)
    deep = core.fit_classifier(core.TrainParams(max_depth=5), frame)
    shallow = core.fit_classifier(core.TrainParams(max_depth=1), frame)
    assert deep.get_depth() == 2
    assert shallow.get_depth() == 1


@pytest.mark.parametrize("kind", core.MODEL_KINDS)
def test_every_model_kind_learns_separable_classes(kind: str) -> None:
    frame = tiny_frame(rows_per_class=10)
    train, test = core.split_frame(frame, test_size=0.3, random_state=0)
    classifier = core.fit_classifier(core.TrainParams(model=kind, n_estimators=5), train)
    metrics = core.evaluate_splits(classifier, train, test)
    assert metrics["test_accuracy"] == 1.0
    assert set(metrics) == {
        f"{split}_{name}"
        for split in ("train", "test")
        for name in ("accuracy", "precision_weighted", "recall_weighted", "f1_weighted")
    }


def test_random_forest_uses_n_estimators_and_logistic_regression_uses_c() -> None:
    forest = core.build_classifier(core.TrainParams(model="random_forest", n_estimators=7))
    assert forest.n_estimators == 7
    logistic = core.build_classifier(core.TrainParams(model="logistic_regression", C=0.25))
    assert logistic.named_steps["classify"].C == 0.25


def test_metrics_match_hand_computed_values() -> None:
    y_true = pd.Series(["a", "a", "b", "b"])
    y_pred = np.array(["a", "b", "b", "b"])
    metrics = core.classification_metrics(y_true, y_pred, "test")
    # accuracy 3/4; class a: p=1, r=1/2; class b: p=2/3, r=1; both classes weigh 1/2
    assert metrics["test_accuracy"] == pytest.approx(0.75)
    assert metrics["test_precision_weighted"] == pytest.approx((1 + 2 / 3) / 2)
    assert metrics["test_recall_weighted"] == pytest.approx((0.5 + 1) / 2)
    f1_a = 2 * 1 * 0.5 / 1.5
    f1_b = 2 * (2 / 3) * 1 / (2 / 3 + 1)
    assert metrics["test_f1_weighted"] == pytest.approx((f1_a + f1_b) / 2)


def test_confusion_rows_are_true_classes() -> None:
    matrix = core.confusion(pd.Series(["a", "a", "b"]), np.array(["a", "b", "b"]), ["a", "b"])
    assert matrix.tolist() == [[1, 1], [0, 1]]


# -- gate -------------------------------------------------------------------------------


def test_gate_is_inclusive_at_the_threshold() -> None:
    gate = core.GateParams(threshold=0.9)
    assert core.decide(gate, 0.9).passed
    assert not core.decide(gate, 0.8999).passed


def test_failed_gate_never_promotes_and_says_so() -> None:
    decision = core.decide(core.GateParams(), 0.5)
    assert not decision.passed
    assert "no model version registered" in decision.summary()


def test_measured_on_names_the_heldout_rows() -> None:
    one = core.measured_on("abc", 0.3)
    assert one == core.measured_on("abc", 0.30)
    assert one != core.measured_on("abc", 0.25)
    assert one != core.measured_on("abd", 0.3)


# -- served requests ----------------------------------------------------------------------


def request_frame(**changes: object) -> pd.DataFrame:
    row: dict[str, object] = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}
    row["petal_width"] = 0.2
    return pd.DataFrame([dict(row), {**row, **changes}])


def test_a_plausible_request_passes_as_floats() -> None:
    clean = check_request(request_frame(petal_width=2), IrisScorer(), None)
    assert clean[list(core.FEATURES)].dtypes.eq("float64").all()


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (float("nan"), "row 1: petal_width is missing"),
        (None, "row 1: petal_width is missing"),
        (float("inf"), "row 1: petal_width must be a finite number, got inf"),
        (1e39, "row 1: petal_width is 1e+39, outside the plausible range 0 to 100 cm"),
        (1e-300 * -1, "row 1: petal_width is -1e-300"),
        ("wide", "row 1: petal_width 'wide' is not a number"),
        (True, "row 1: petal_width True is not a number"),
        ([1.0], "row 1: petal_width of type list is not a number"),
        (pd.Timestamp("2025-01-01"), "row 1: petal_width of type Timestamp is not a number"),
    ],
)
def test_a_request_is_refused_as_score_refuses_the_same_row(value: object, fragment: str) -> None:
    """Serving and ``score`` share one set of row checks: the request's refusal carries
    the very reason ``score`` gives the row (booleans, lists and timestamps included)."""
    frame = request_frame(petal_width=value).astype({"petal_width": object})
    with pytest.raises(DataError) as refused:
        check_request(frame, IrisScorer(), None)
    assert fragment in str(refused.value)
    assert "\n" not in str(refused.value)
    reason = check_rows(frame, IrisScorer(), None)[1]
    assert str(refused.value) == f"row 1: {reason}"


def test_a_request_missing_a_field_or_rows_is_refused() -> None:
    with pytest.raises(DataError, match="missing field"):
        check_request(request_frame().drop(columns=["petal_width"]), IrisScorer(), None)
    with pytest.raises(DataError, match="no rows"):
        check_request(pd.DataFrame(columns=list(core.FEATURES)), IrisScorer(), None)


# -- repeated cross-validation and per-row evidence ---------------------------------------


def test_repeated_cv_predicts_every_row_once_per_repeat_with_fixed_folds() -> None:
    frame = tiny_frame(rows_per_class=6)
    params = core.TrainParams(cv_folds=3, cv_repeats=4, random_state=7)
    result = core.repeated_cross_validation(params, frame)
    assert len(result.accuracies) == 4
    oof = result.out_of_fold
    assert len(oof) == 4 * len(frame)
    assert (oof.groupby("repeat")["row"].nunique() == len(frame)).all()
    assert result.mean == pytest.approx(1.0)  # well-separated classes
    assert result.sd == 0.0
    again = core.repeated_cross_validation(params, frame)
    assert again.out_of_fold.equals(oof)
    assert set(result.metrics()) == {"repeated_cv_accuracy", "repeated_cv_accuracy_sd"}


def test_repeated_cv_mean_and_sd_are_over_the_repeats() -> None:
    result = core.CrossValidation(5, 3, (0.9, 0.95, 1.0), pd.DataFrame({"row": range(9)}))
    assert result.mean == pytest.approx(0.95)
    assert result.sd == pytest.approx(0.05)
    assert "3 x 5-fold CV accuracy 0.9500 ± 0.0500" in result.text()


def test_repeated_cv_refuses_more_folds_than_the_smallest_class_has_rows() -> None:
    from lifecycle.errors import ParameterError

    with pytest.raises(ParameterError, match="cv_folds"):
        core.repeated_cross_validation(core.TrainParams(cv_folds=5), tiny_frame(rows_per_class=4))


def test_evidence_rows_are_zero_one_losses_by_row_digest() -> None:
    heldout = tiny_frame(rows_per_class=1)
    rows = core.evidence_rows(heldout, np.array(["setosa", "virginica", "virginica"]))
    assert rows["row_id"].tolist() == core.row_digests(heldout)
    twice = core.evidence_rows(pd.concat([heldout, heldout.head(1)]), ["setosa"] * 4)
    assert twice["row_id"].iloc[3] == f"{rows['row_id'].iloc[0]}#1"
    assert rows["loss"].tolist() == [0.0, 1.0, 0.0]
    assert rows["truth"].tolist() == ["setosa", "versicolor", "virginica"]


def test_the_promotion_rule_is_mcnemar_on_the_gate_metric() -> None:
    rule = core.promotion_rule("accuracy", 0.05)
    assert (rule.metric, rule.higher_is_better, rule.test_name) == (
        "accuracy",
        True,
        "exact McNemar",
    )

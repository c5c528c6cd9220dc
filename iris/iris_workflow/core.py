"""Pure iris modelling: parameter and data validation, the held-out split, the
classifiers, their metrics, and the registration gate.

Nothing in this module reads files, talks to MLflow or prints; every function takes
and returns in-memory values so the tests can call it on a handful of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from iris_workflow.params import GATE_METRICS as GATE_METRICS
from iris_workflow.params import MODEL_KINDS as MODEL_KINDS
from iris_workflow.params import GateParams as GateParams
from iris_workflow.params import TrainParams as TrainParams
from lifecycle import significance
from lifecycle.errors import DataError, ParameterError
from lifecycle.monitor import drift
from lifecycle.monitor.verdicts import LiveCheck
from lifecycle.register import shared
from lifecycle.register.rule import ChampionRule

if TYPE_CHECKING:
    from sklearn.base import ClassifierMixin

# scikit-learn is imported inside the functions that fit or score: the register step and
# parameter validation never pay for it (about 1.5 s and 80 MB per process).

FEATURES: tuple[str, ...] = ("sepal_length", "sepal_width", "petal_length", "petal_width")
TARGET = "species"


# The columns a table reader adds to every row it reads (where the row came from): not
# the file's own, so never listed as found in a message about the file's columns.
READER_COLUMNS = ("source_file", "source_row")


def validate_frame(frame: pd.DataFrame, min_classes: int = 2) -> pd.DataFrame:
    """Check that ``frame`` is a usable iris table and return it with float features.

    Extra columns are dropped; missing columns, missing values, non-numeric features,
    empty labels and fewer than ``min_classes`` classes (a training rule: 1 for
    feedback) are reported with the offending column and rows.
    """
    if frame.empty:
        raise DataError(
            f"the table has no rows: expected a header and rows with columns "
            f"{', '.join((*FEATURES, TARGET))}"
        )
    missing = [column for column in (*FEATURES, TARGET) if column not in frame.columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}: expected "
            f"{', '.join((*FEATURES, TARGET))}; found "
            f"{', '.join(str(c) for c in frame.columns if c not in READER_COLUMNS) or 'none'}"
        )
    clean = pd.DataFrame(index=frame.index)
    for column in FEATURES:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() | ~np.isfinite(numbers.fillna(0.0))
        if bad.any():
            rows = [int(i) + 1 for i in np.flatnonzero(bad.to_numpy())[:5]]
            examples = ", ".join(repr(v) for v in frame[column][bad].head(3).tolist())
            raise DataError(
                f"column {column!r} must hold finite numbers; data row(s) {rows} hold {examples}"
            )
        clean[column] = numbers.astype("float64")
    labels = frame[TARGET].astype("string").str.strip()
    empty = labels.isna() | (labels == "")
    if empty.any():
        rows = [int(i) + 1 for i in np.flatnonzero(empty.to_numpy())[:5]]
        raise DataError(f"column {TARGET!r} is empty in data row(s) {rows}")
    if labels.nunique() < min_classes:
        found = ", ".join(sorted(map(str, labels.unique())))
        raise DataError(f"column {TARGET!r} needs at least two classes, found only {found}")
    clean[TARGET] = labels.astype(object)
    return clean.reset_index(drop=True)


# A served request's measurements must be plausible lengths in centimetres (the iris
# data spans 0.1 to 7.9); anything else is refused rather than scored.
PLAUSIBLE_CM = (0.0, 100.0)


def row_digests(frame: pd.DataFrame) -> list[str]:
    """Each flower's digest: its four measurements and species (``lifecycle.register.shared``)."""
    return shared.frame_digests(frame, (*FEATURES, TARGET))


def held_out_mask(digests: list[str], test_size: float) -> np.ndarray:
    """Which rows the split holds out: those whose digest, read as a number in [0, 1),
    is below ``test_size``. A row's side depends on the row alone, so it never moves as
    the table grows, and new rows join either side by the same rule."""
    return np.array([int(digest[:8], 16) / 16**8 < test_size for digest in digests], dtype=bool)


def split_frame(
    frame: pd.DataFrame, test_size: float, random_state: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train / held-out split by the row hash (``held_out_mask``); every class must
    appear on both sides. ``random_state`` does not move a row: it seeds the models."""
    smallest_class = int(frame[TARGET].value_counts().min())
    if smallest_class < 2:
        counts = ", ".join(
            f"{name} {count}" for name, count in frame[TARGET].value_counts().items()
        )
        raise DataError(
            f"every class needs at least two rows to appear in both splits; the data holds {counts}"
        )
    mask = held_out_mask(row_digests(frame), test_size)
    train, test = frame[~mask], frame[mask]
    classes = set(frame[TARGET])
    short = sorted(
        f"{side} lacks {', '.join(sorted(classes - set(rows[TARGET])))}"
        for side, rows in (("training", train), ("held-out", test))
        if classes - set(rows[TARGET])
    )
    if short:
        raise ParameterError(
            "test_size",
            test_size,
            f"the row hash holds out {len(test)} of {len(frame)} rows and the "
            f"{'; the '.join(short)}; each side needs at least one row of each class",
        )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def build_classifier(params: TrainParams) -> ClassifierMixin:
    """An unfitted classifier for ``params.model``; only the parameters it uses apply."""
    if params.model == "decision_tree":
        from sklearn.tree import DecisionTreeClassifier

        return DecisionTreeClassifier(
            max_depth=params.max_depth,
            max_leaf_nodes=params.max_leaf_nodes,
            random_state=params.random_state,
        )
    if params.model == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=params.n_estimators,
            max_depth=params.max_depth,
            max_leaf_nodes=params.max_leaf_nodes,
            random_state=params.random_state,
            n_jobs=1,
        )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "classify",
                LogisticRegression(C=params.C, max_iter=1000, random_state=params.random_state),
            ),
        ]
    )


def fit_classifier(params: TrainParams, train: pd.DataFrame) -> ClassifierMixin:
    """Fit the classifier chosen by ``params`` on the training split."""
    classifier = build_classifier(params)
    classifier.fit(train[list(FEATURES)], train[TARGET])
    return classifier


def classification_metrics(y_true: pd.Series, y_pred: np.ndarray, prefix: str) -> dict[str, float]:
    """Accuracy and weighted precision / recall / F1, keyed ``{prefix}_{metric}``."""
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="weighted", zero_division=0
    )
    return {
        f"{prefix}_accuracy": float(accuracy_score(y_true, y_pred)),
        f"{prefix}_precision_weighted": float(precision),
        f"{prefix}_recall_weighted": float(recall),
        f"{prefix}_f1_weighted": float(f1),
    }


def evaluate_splits(
    classifier: ClassifierMixin, train: pd.DataFrame, test: pd.DataFrame
) -> dict[str, float]:
    """Training and held-out metrics of a fitted classifier."""
    metrics = classification_metrics(
        train[TARGET], classifier.predict(train[list(FEATURES)]), "train"
    )
    metrics.update(
        classification_metrics(test[TARGET], classifier.predict(test[list(FEATURES)]), "test")
    )
    return metrics


def confusion(y_true: pd.Series, y_pred: np.ndarray, labels: list[str]) -> np.ndarray:
    """Confusion matrix: rows are true classes, columns predictions, both in ``labels`` order."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=labels)


@dataclass(frozen=True)
class CrossValidation:
    """Repeated stratified k-fold accuracy on the whole table: one out-of-fold
    prediction per flower and repetition, the accuracy of each repetition, their mean
    and standard deviation."""

    folds: int
    repeats: int
    accuracies: tuple[float, ...]
    out_of_fold: pd.DataFrame  # row, repeat, species, predicted

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def sd(self) -> float:
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else 0.0

    def metrics(self) -> dict[str, float]:
        return {"repeated_cv_accuracy": self.mean, "repeated_cv_accuracy_sd": self.sd}

    def text(self) -> str:
        return (
            f"{self.repeats} x {self.folds}-fold CV accuracy {self.mean:.4f} ± {self.sd:.4f} "
            f"over all {len(self.out_of_fold) // max(self.repeats, 1)} rows"
        )


def repeated_cross_validation(params: TrainParams, frame: pd.DataFrame) -> CrossValidation:
    """Repeated stratified k-fold CV of ``params``' recipe on the whole table (the folds
    fixed by ``random_state``): each repetition predicts every row once, out of fold."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    smallest_class = int(frame[TARGET].value_counts().min())
    if smallest_class < params.cv_folds:
        raise ParameterError(
            "cv_folds",
            params.cv_folds,
            f"the smallest class has {smallest_class} rows; each fold needs one of each class",
        )
    splitter = RepeatedStratifiedKFold(
        n_splits=params.cv_folds, n_repeats=params.cv_repeats, random_state=params.random_state
    )
    features, labels = frame[list(FEATURES)], frame[TARGET]
    predicted = np.empty((params.cv_repeats, len(frame)), dtype=object)
    for index, (train_rows, test_rows) in enumerate(splitter.split(features, labels)):
        model = build_classifier(params).fit(features.iloc[train_rows], labels.iloc[train_rows])
        predicted[index // params.cv_folds, test_rows] = model.predict(features.iloc[test_rows])
    truth = labels.to_numpy()
    accuracies = tuple(float(np.mean(row == truth)) for row in predicted)
    out_of_fold = pd.DataFrame(
        {
            "row": np.tile(np.arange(len(frame)), params.cv_repeats),
            "repeat": np.repeat(np.arange(params.cv_repeats), len(frame)),
            TARGET: np.tile(truth, params.cv_repeats),
            "predicted": predicted.ravel(),
        }
    )
    return CrossValidation(params.cv_folds, params.cv_repeats, accuracies, out_of_fold)


def evidence_rows(heldout: pd.DataFrame, predicted: np.ndarray | list[object]) -> pd.DataFrame:
    """Per-row evidence on held-out flowers (``lifecycle.evidence``): the row's digest
    (``#<n>`` on a repeated flower), the true and predicted species, and the 0/1 loss
    (1 = wrong). The same flower has the same id in any table, so two models measured
    on different tables pair on the flowers they share."""
    truth = heldout[TARGET].to_numpy()
    predicted = np.asarray(predicted, dtype=object)
    return pd.DataFrame(
        {
            "row_id": shared.unique_ids(row_digests(heldout)),
            "truth": truth,
            "prediction": predicted,
            "loss": (predicted != truth).astype("float64"),
        }
    )


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the registration gate: the held-out value against the threshold.

    Whether a passing model then replaces the champion is the registry's rule
    (``lifecycle.promotion``): better on the same held-out rows by the one-sided exact
    McNemar test on the rows' correctness, at ``promotion_alpha``.
    """

    metric: str
    value: float
    threshold: float
    passed: bool

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        comparison = ">=" if self.passed else "<"
        return f"gate {verdict}: {self.metric} {self.value:.4f} {comparison} {self.threshold:.4f}"

    def summary(self) -> str:
        """The gate line alone (the register step appends the champion's outcome)."""
        return self.text() if self.passed else self.text() + "; no model version registered"


def decide(gate: GateParams, value: float) -> GateDecision:
    """Apply the gate: the held-out value must reach the threshold (inclusive)."""
    return GateDecision(
        metric=gate.metric, value=value, threshold=gate.threshold, passed=value >= gate.threshold
    )


def promotion_rule(metric: str, alpha: float) -> ChampionRule:
    """The champion rule: a higher held-out ``metric``, and the exact McNemar test on
    the paired correctness at ``alpha`` (McNemar, not a bootstrap: the outcome per row is
    right or wrong, the exact test needs no resampling and every racing register step
    computes the same p-value)."""
    return ChampionRule(
        metric,
        True,
        significance.MCNEMAR,
        significance.mcnemar_exact,
        alpha,
        value_of=_accuracy_of if metric == "accuracy" else None,
    )


def _accuracy_of(rows: pd.DataFrame) -> float:
    """Held-out accuracy from per-row evidence: the share of rows with loss 0."""
    return 1.0 - float(rows["loss"].mean())


def measured_on(data_sha256: str, test_size: float) -> str:
    """What identifies the held-out rows a value was measured on: the data file and the
    held-out fraction (the split is by the row hash, so nothing else moves a row)."""
    return f"data_sha256={data_sha256} test_size={float(test_size)!r} split=row-hash"


def reference_profile(train: pd.DataFrame, random_state: int) -> drift.Profile:
    """The profile of the training split's four measurements, stored with the model."""
    return drift.build_profile(train[list(FEATURES)], numeric=FEATURES, seed=random_state)


def validate_truth(truth: pd.DataFrame, known: set[str]) -> pd.DataFrame:
    """Labelled flowers as feedback: a valid iris table (one species is enough), whose
    every species is one the model knows. A label it does not know, or one that differs
    only in case, is refused by name rather than counted as an error of the model."""
    labelled = validate_frame(truth, min_classes=1)
    unknown = sorted(set(labelled[TARGET]) - known)
    if unknown:
        by_case = {name.casefold(): name for name in known}
        named = ", ".join(
            repr(label)
            + (
                f" (did you mean {by_case[label.casefold()]!r}?)"
                if label.casefold() in by_case
                else ""
            )
            for label in unknown[:5]
        )
        rows = np.flatnonzero(labelled[TARGET].isin(unknown).to_numpy())[:5] + 1
        raise DataError(
            f"the truth's {TARGET!r} holds label(s) the model does not know: {named}, in data "
            f"row(s) {[int(row) for row in rows]}; it knows {', '.join(sorted(known))}"
        )
    return labelled


def monitored_features(batch: pd.DataFrame) -> pd.DataFrame:
    """The four measurements of a batch (a table to score or a score output), as
    numbers; a cell that is not one is missing, and a missing column is refused."""
    missing = [column for column in FEATURES if column not in batch.columns]
    if missing:
        raise DataError(
            f"the batch lacks column(s) {', '.join(missing)}: iris monitors {', '.join(FEATURES)}"
        )
    return batch[list(FEATURES)].apply(pd.to_numeric, errors="coerce")


def live_check(live_wrong: np.ndarray, measured_wrong: np.ndarray, alpha: float) -> LiveCheck:
    """Live accuracy on labelled flowers against the held-out accuracy the model was
    measured with: degraded when Fisher's exact test finds the live error rate higher
    (one-sided p below ``alpha``)."""
    live = np.asarray(live_wrong, dtype=bool)
    measured = np.asarray(measured_wrong, dtype=bool)
    test = significance.fisher_exact_worse(
        int(live.sum()), live.size, int(measured.sum()), measured.size
    )
    live_accuracy = 1.0 - float(live.mean())
    measured_accuracy = 1.0 - float(measured.mean())
    degraded = test.p_value < alpha
    return LiveCheck(
        metric="live_accuracy",
        value=live_accuracy,
        reference=measured_accuracy,
        rows=live.size,
        test=test.test,
        statistic=test.statistic,
        p_value=test.p_value,
        degraded=degraded,
        summary=(
            f"live accuracy {live_accuracy:.4f} on {live.size} labelled flowers against "
            f"{measured_accuracy:.4f} held out: {test.describe()} for a higher error rate, "
            f"{'degraded' if degraded else 'not degraded'} at alpha {alpha:g}"
        ),
        metrics={"heldout_accuracy": measured_accuracy},
    )

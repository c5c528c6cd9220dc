"""How the monitor step watches the iris classifier: the four measurements against the
training split's profile, and live accuracy on labelled flowers (the truth: a table
with the four measurements and the species) against the held-out accuracy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from iris_workflow import core
from lifecycle.monitor.verdicts import LiveCheck

if TYPE_CHECKING:
    from lifecycle.models import ResolvedModel


class IrisMonitor:
    """The iris classifier as the monitor step sees it."""

    project = "iris"
    feedback: str | None = "labelled flowers: the four measurements and the species"

    def features(self, batch: pd.DataFrame) -> pd.DataFrame:
        return core.monitored_features(batch)

    def batch_date(self, batch: pd.DataFrame) -> pd.Timestamp | None:
        return None

    def live(
        self, model: ResolvedModel, batch: pd.DataFrame, truth: pd.DataFrame, alpha: float
    ) -> LiveCheck:
        import mlflow

        from iris_workflow import tracking
        from lifecycle.models import ModelRef

        heldout = tracking.load_heldout(ModelRef(model.uri, model.run_id))
        labelled = core.validate_truth(truth, set(heldout[core.TARGET]))
        classifier = mlflow.pyfunc.load_model(model.uri)
        features = list(core.FEATURES)
        live_wrong = _labels(classifier.predict(labelled[features])) != labelled[core.TARGET]
        measured_wrong = _labels(classifier.predict(heldout[features])) != heldout[core.TARGET]
        return core.live_check(live_wrong.to_numpy(), measured_wrong.to_numpy(), alpha)


def _labels(predicted: object) -> pd.Series:
    if isinstance(predicted, pd.DataFrame):
        return pd.Series(predicted.iloc[:, 0].to_numpy(dtype=object))
    return pd.Series(np.asarray(predicted, dtype=object))

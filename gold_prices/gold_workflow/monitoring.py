"""How the monitor step watches the gold forecaster: the engineered features of a
batch's bars against the profile of the rows the model was fitted on, and live MASE of
a score output's forecasts once the realised closes (the truth: a price table reaching
``horizon`` trading days past the forecasts) are known; forecasts made within the
history the model was fitted on are in-sample and left out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from gold_workflow import live as gold_live
from lifecycle.monitor.verdicts import LiveCheck

if TYPE_CHECKING:
    from lifecycle.models import ResolvedModel


class GoldMonitor:
    """The gold forecaster as the monitor step sees it."""

    project = "gold_prices"
    feedback: str | None = "realised closes: a price table covering the forecasts' targets"

    def features(self, batch: pd.DataFrame) -> pd.DataFrame:
        return gold_live.monitored_features(batch)

    def batch_date(self, batch: pd.DataFrame) -> pd.Timestamp | None:
        return gold_live.batch_date(batch)

    def live(
        self, model: ResolvedModel, batch: pd.DataFrame, truth: pd.DataFrame, alpha: float
    ) -> LiveCheck:
        import mlflow

        from lifecycle.monitor.step import check_scored_by

        check_scored_by(batch, model)
        data = mlflow.MlflowClient().get_run(model.run_id).data
        backtest_mase = float(data.metrics.get("backtest_mase", float("nan")))
        last = data.tags.get("data_last_date")
        trained_until = pd.Timestamp(last) if last else None
        return gold_live.live_check(batch, truth, backtest_mase, alpha, trained_until)

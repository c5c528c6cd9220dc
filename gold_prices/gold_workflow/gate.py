"""Forecast metrics against the naive last-close forecast (MAE, MASE, direction), the
verdict in plain words, and the registration gate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gold_workflow.params import GateParams
from lifecycle.promotion import format_value


def forecast_metrics(
    actual: np.ndarray, forecast: np.ndarray, last_close: np.ndarray
) -> dict[str, float]:
    """MAE, RMSE, MAPE (percent) and directional accuracy of price forecasts.

    Directional accuracy counts, over the origins where the price moved, how often the
    forecast moved the same way; a forecast of no change is never right.
    """
    actual = np.asarray(actual, dtype="float64")
    forecast = np.asarray(forecast, dtype="float64")
    last_close = np.asarray(last_close, dtype="float64")
    error = forecast - actual
    moved = actual != last_close
    same_direction = np.sign(forecast - last_close) == np.sign(actual - last_close)
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mape": float(100.0 * np.mean(np.abs(error) / np.abs(actual))),
        "directional_accuracy": float(np.mean(same_direction[moved])) if moved.any() else 0.0,
    }


def backtest_metrics(forecasts: pd.DataFrame) -> dict[str, float]:
    """The model's and the naive forecast's metrics, MASE, and the share of up moves.

    MASE is the model's MAE divided by the naive last-close forecast's MAE on the same
    origins: below 1 beats naive. ``backtest_up_share`` is the directional accuracy an
    always-up forecast would have, the baseline for the model's directional accuracy.
    """
    actual = forecasts["actual_close"].to_numpy()
    last_close = forecasts["last_close"].to_numpy()
    model = forecast_metrics(actual, forecasts["forecast_close"].to_numpy(), last_close)
    naive = forecast_metrics(actual, forecasts["naive_close"].to_numpy(), last_close)
    moved = actual != last_close
    metrics = {f"backtest_{key}": value for key, value in model.items()}
    metrics.update({f"naive_{key}": naive[key] for key in ("mae", "rmse", "mape")})
    metrics["backtest_mase"] = model["mae"] / naive["mae"] if naive["mae"] > 0 else float("inf")
    metrics["backtest_up_share"] = float(np.mean(actual[moved] > last_close[moved]))
    return metrics


def verdict_against_naive(mase: float) -> str:
    """Plain words for a MASE value."""
    if mase < 1.0:
        return "beats the naive last-close forecast"
    if mase == 1.0:
        return "ties the naive last-close forecast"
    return "does NOT beat the naive last-close forecast"


# --- the gate -------------------------------------------------------------------------


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate: the backtest MASE must be finite and at most the threshold.

    Whether a passing model then replaces the champion is the registry's rule
    (``lifecycle.promotion``): strictly lower MASE, on the same backtest days.
    """

    value: float
    threshold: float
    passed: bool
    metric: str = "mase"

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        comparison = "<=" if self.passed else ">"
        if not math.isfinite(self.value):
            return (
                f"gate FAILED: backtest MASE is {format_value(self.value)} (the naive "
                f"forecast's error is zero on the backtest days, so MASE has no finite value)"
            )
        return (
            f"gate {verdict}: backtest MASE {format_value(self.value)} {comparison} "
            f"{self.threshold:.4f} (the model {verdict_against_naive(self.value)})"
        )

    def summary(self) -> str:
        """The gate line alone (the register step appends the champion's outcome)."""
        return self.text() if self.passed else self.text() + "; no model version registered"


def decide(gate: GateParams, mase: float) -> GateDecision:
    """Pass when MASE is finite and at most the threshold."""
    passed = bool(np.isfinite(mase)) and mase <= gate.max_mase
    return GateDecision(value=mase, threshold=gate.max_mase, passed=passed)


def measured_on(data_sha256: str, horizon: int, backtest_start: str, backtest_days: int) -> str:
    """What identifies the backtest days a MASE was measured on: the data file, the
    horizon (which sets the target) and the first and number of backtest days."""
    return (
        f"data_sha256={data_sha256} horizon={int(horizon)} backtest_start={backtest_start} "
        f"backtest_days={int(backtest_days)}"
    )

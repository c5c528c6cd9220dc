"""Forecast metrics against the naive last-close forecast (MAE, MASE, direction), the
verdict in plain words, and the registration gate."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gold_workflow.params import GateParams
from gold_workflow.schema import DATE
from lifecycle import significance
from lifecycle.register import shared
from lifecycle.register.rule import ChampionRule, format_value
from lifecycle.significance import PairedTest, format_p


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


def naive_test_metrics(forecasts: pd.DataFrame, horizon: int) -> dict[str, float]:
    """The Diebold-Mariano test of the backtest against the naive forecast, as metrics:
    the statistic and the one-sided p-values for "better" and for "worse"."""
    naive = versus_naive(evidence_rows(forecasts), horizon)
    return {
        "dm_vs_naive_statistic": naive.better.statistic,
        "dm_vs_naive_p_value": naive.better.p_value,
        "dm_worse_than_naive_p_value": naive.worse.p_value,
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


def evidence_rows(forecasts: pd.DataFrame) -> pd.DataFrame:
    """Per-day evidence of a walk-forward backtest (``lifecycle.evidence``): the forecast
    origin's date, the realised and forecast closes, the absolute error (the loss MASE
    averages) and the naive last-close forecast's, for the test against naive."""
    actual = forecasts["actual_close"].to_numpy(dtype="float64")
    forecast = forecasts["forecast_close"].to_numpy(dtype="float64")
    naive = forecasts["naive_close"].to_numpy(dtype="float64")
    return pd.DataFrame(
        {
            "row_id": forecasts[DATE].astype(str).to_numpy(),
            "target_date": forecasts["target_date"].astype(str).to_numpy(),
            "truth": actual,
            "prediction": forecast,
            "loss": np.abs(forecast - actual),
            "naive_prediction": naive,
            "naive_loss": np.abs(naive - actual),
        }
    )


@dataclass(frozen=True)
class VersusNaive:
    """The Diebold-Mariano tests of the model against the naive forecast, both ways: is
    the model better (``better.p_value``), is it worse (``worse.p_value``)?"""

    better: PairedTest
    worse: PairedTest

    def text(self) -> str:
        return (
            f"Diebold-Mariano against naive {self.better.statistic:.3f}, one-sided "
            f"p={format_p(self.better.p_value)} for better, p={format_p(self.worse.p_value)} "
            f"for worse"
        )


def versus_naive(rows: pd.DataFrame, horizon: int) -> VersusNaive:
    """Test the model's daily absolute errors against the naive forecast's, over the
    overlapping ``horizon``-day forecasts (Diebold-Mariano with the HLN correction)."""
    model, naive = rows["loss"].to_numpy(), rows["naive_loss"].to_numpy()
    return VersusNaive(
        significance.diebold_mariano(model, naive, horizon),
        significance.diebold_mariano(naive, model, horizon),
    )


def promotion_rule(alpha: float, horizon: int) -> ChampionRule:
    """The champion rule: a lower backtest MASE on the same days, and the one-sided
    Diebold-Mariano test (HLN correction, ``horizon - 1`` autocovariances for the
    overlapping forecasts) on the paired daily absolute errors at ``alpha``."""
    return ChampionRule(
        "mase",
        False,
        significance.DIEBOLD_MARIANO,
        lambda challenger, champion: significance.diebold_mariano(challenger, champion, horizon),
        alpha,
        min_rows=MIN_SHARED_DAYS,
        value_of=_mase_of,
    )


def _mase_of(rows: pd.DataFrame) -> float:
    """Backtest MASE from per-day evidence: the model's mean absolute error over the
    naive forecast's (infinite when naive is never wrong)."""
    if "naive_loss" not in rows.columns:
        return math.nan
    naive = float(pd.to_numeric(rows["naive_loss"]).mean())
    return float(rows["loss"].mean()) / naive if naive > 0 else math.inf


# The fewest out-of-time days two forecasters are compared on: the DM test's variance
# of overlapping forecasts needs more than a handful.
MIN_SHARED_DAYS = 20


def bar_digests(prices: pd.DataFrame) -> list[str]:
    """Each bar's digest (``lifecycle.register.shared``): its date and close."""
    dates = prices[DATE].dt.strftime("%Y-%m-%d")
    return [
        shared.row_digest((date, close))
        for date, close in zip(dates, prices["Close"].astype("float64"), strict=True)
    ]


def out_of_time_evidence(
    prices: pd.DataFrame, forecasts: pd.DataFrame, horizon: int, after: pd.Timestamp
) -> pd.DataFrame:
    """Per-day evidence of forecasts made after ``after`` (both models' last training
    bar) whose target bar, ``horizon`` bars later, is in ``prices``: the row id is the
    target bar's digest, so the pairing can check it against the bars either model
    trained on. ``forecasts`` holds ``_position`` (the origin bar) and ``forecast_close``."""
    origin = forecasts["_position"].to_numpy(dtype="int64")
    target = origin + horizon
    dates = prices[DATE].reset_index(drop=True)
    inside = (target < len(prices)) & (dates.iloc[origin].to_numpy() > np.datetime64(after))
    origin, target = origin[inside], target[inside]
    actual = prices["Close"].to_numpy(dtype="float64")[target]
    forecast = forecasts["forecast_close"].to_numpy(dtype="float64")[inside]
    digests = bar_digests(prices)
    return pd.DataFrame(
        {
            "row_id": [digests[i] for i in target],
            DATE: dates.iloc[origin].dt.strftime("%Y-%m-%d").to_numpy(),
            "target_date": dates.iloc[target].dt.strftime("%Y-%m-%d").to_numpy(),
            "truth": actual,
            "prediction": forecast,
            "loss": np.abs(forecast - actual),
        }
    )


# --- the gate -------------------------------------------------------------------------


@dataclass(frozen=True)
class GateDecision:
    """Outcome of the gate: the backtest MASE must be finite and at most the threshold,
    and the model must not be significantly worse than the naive forecast (one-sided DM
    at ``naive_alpha``). Not being significantly *better* than naive does not fail it:
    daily gold is close to a random walk, and a gate demanding a significant edge would
    leave no model to serve; the p-value is shown either way.

    Whether a passing model then replaces the champion is the registry's rule
    (``lifecycle.promotion``): a lower MASE on the same backtest days, by the DM test.
    """

    value: float
    threshold: float
    passed: bool
    metric: str = "mase"
    naive: VersusNaive | None = None
    naive_alpha: float = 0.05

    @property
    def significantly_worse(self) -> bool:
        return self.naive is not None and self.naive.worse.p_value < self.naive_alpha

    def _against_naive(self) -> str:
        if self.naive is None:
            return ""
        if self.significantly_worse:
            verdict = f"significantly worse than naive (p < {self.naive_alpha:g})"
        elif self.naive.better.p_value < self.naive_alpha:
            verdict = f"significantly better than naive (p < {self.naive_alpha:g})"
        else:
            verdict = "not significantly different from naive"
        return f"; {self.naive.text()}: {verdict}"

    def text(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        if not math.isfinite(self.value):
            return (
                f"gate FAILED: backtest MASE is {format_value(self.value)} (the naive "
                f"forecast's error is zero on the backtest days, so MASE has no finite value)"
            )
        comparison = "<=" if self.value <= self.threshold else ">"
        return (
            f"gate {verdict}: backtest MASE {format_value(self.value)} {comparison} "
            f"{self.threshold:.4f} (the model {verdict_against_naive(self.value)})"
            f"{self._against_naive()}"
        )

    def summary(self) -> str:
        """The gate line alone (the register step appends the champion's outcome)."""
        return self.text() if self.passed else self.text() + "; no model version registered"


def decide(gate: GateParams, mase: float, naive: VersusNaive | None = None) -> GateDecision:
    """Pass when MASE is finite and at most the threshold and, when the test against
    naive is given, the model is not significantly worse than naive."""
    decision = GateDecision(
        value=mase, threshold=gate.max_mase, passed=False, naive=naive, naive_alpha=gate.naive_alpha
    )
    passed = bool(np.isfinite(mase)) and mase <= gate.max_mase and not decision.significantly_worse
    return GateDecision(
        value=mase,
        threshold=gate.max_mase,
        passed=passed,
        naive=naive,
        naive_alpha=gate.naive_alpha,
    )


def measured_on(data_sha256: str, horizon: int, backtest_start: str, backtest_days: int) -> str:
    """What identifies the backtest days a MASE was measured on: the data file, the
    horizon (which sets the target) and the first and number of backtest days."""
    return (
        f"data_sha256={data_sha256} horizon={int(horizon)} backtest_start={backtest_start} "
        f"backtest_days={int(backtest_days)}"
    )

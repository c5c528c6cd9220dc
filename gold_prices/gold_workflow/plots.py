"""Builds the figures a gold_prices training run logs: forecast vs actual over the
backtest, and the forecast residuals."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure


def forecast_figure(forecasts: pd.DataFrame, title: str) -> Figure:
    """Actual close, model forecast and naive forecast, by the date they forecast."""
    figure, axes = plt.subplots(figsize=(10, 4.5), dpi=100)
    dates = pd.to_datetime(forecasts["target_date"])
    axes.plot(dates, forecasts["actual_close"], label="actual close", color="black", lw=1.2)
    axes.plot(dates, forecasts["forecast_close"], label="model forecast", color="tab:orange", lw=1)
    axes.plot(
        dates,
        forecasts["naive_close"],
        label="naive (last close)",
        color="tab:blue",
        lw=0.8,
        alpha=0.6,
    )
    axes.set_xlabel("forecast date")
    axes.set_ylabel("USD per troy ounce")
    axes.set_title(title)
    axes.legend(loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure


def residual_figure(forecasts: pd.DataFrame, title: str) -> Figure:
    """Forecast minus actual over time (left) and as a histogram beside naive's (right)."""
    figure, (over_time, histogram) = plt.subplots(
        1, 2, figsize=(11, 4), dpi=100, gridspec_kw={"width_ratios": [2, 1]}
    )
    dates = pd.to_datetime(forecasts["target_date"])
    model_residual = forecasts["forecast_close"] - forecasts["actual_close"]
    naive_residual = forecasts["naive_close"] - forecasts["actual_close"]
    over_time.axhline(0.0, color="grey", lw=0.8)
    over_time.plot(dates, model_residual, color="tab:orange", lw=0.8)
    over_time.set_xlabel("forecast date")
    over_time.set_ylabel("forecast - actual (USD)")
    over_time.set_title(title)
    histogram.hist(naive_residual, bins=40, alpha=0.5, label="naive", color="tab:blue")
    histogram.hist(model_residual, bins=40, alpha=0.5, label="model", color="tab:orange")
    histogram.set_xlabel("forecast - actual (USD)")
    histogram.legend()
    figure.autofmt_xdate()
    figure.tight_layout()
    return figure

"""The gold_prices MLflow Project: forecast the XAU/USD close ``horizon`` trading days
ahead, backtested walk-forward against the naive last-close forecast."""

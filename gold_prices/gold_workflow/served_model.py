"""The code MLflow runs to build the served gold forecaster ("models from code").

``mlflow.pyfunc.log_model(python_model=<this file>)`` stores this file with the model;
loading the model runs it, and ``GoldForecaster.load_context`` then reads the fitted
pipeline and the horizon that were logged beside it.
"""

import mlflow

from gold_workflow.serving import GoldForecaster

mlflow.models.set_model(GoldForecaster())

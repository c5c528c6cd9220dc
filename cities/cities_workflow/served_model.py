"""The code MLflow runs to build the served city recommender ("models from code").

``mlflow.pyfunc.log_model(python_model=<this file>)`` stores this file with the model;
loading the model runs it, and ``CityRecommender.load_context`` then reads the city
catalog and the diversity setting that were logged beside it.
"""

import mlflow

from cities_workflow.serving import CityRecommender

mlflow.models.set_model(CityRecommender())

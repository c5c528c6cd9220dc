"""The orchestrator project: chains each project's train -> evaluate -> register through
``mlflow.run`` under one parent run, and logs a summary table."""

"""What a served model of the collection installs in MLflow's scoring server."""

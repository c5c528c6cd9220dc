# Generated from lifecycle/serve/__init__.py by python -m lifecycle.sync; edit the source.
"""What a served model of the collection installs in MLflow's scoring server."""

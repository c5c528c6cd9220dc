# Generated from lifecycle/spark/__init__.py by python -m lifecycle.sync; edit the source.
"""Spark for the steps that scale out: the session, a data source over the kit's tables,
and inputs and outputs moved in and out of Spark."""

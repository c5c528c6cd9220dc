# Generated from lifecycle/score/__init__.py by python -m lifecycle.sync; edit the source.
"""The score step: its parameters, the row checks (shared with the served models), the
output tables, the local and Spark engines, the step and its command."""

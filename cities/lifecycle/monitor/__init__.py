# Generated from lifecycle/monitor/__init__.py by python -m lifecycle.sync; edit the source.
"""The monitor step: drift against the training inputs' profile, the verdicts and the
report, the step and its command."""

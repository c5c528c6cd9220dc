# Generated from lifecycle/step/__init__.py by python -m lifecycle.sync; edit the source.
"""Running any step: its click command and exit codes, the checkpoint before any work,
its experiment and run, the reason a run failed, the stop and where it comes from, the
terminal and the kept log, progress, and what a run records."""

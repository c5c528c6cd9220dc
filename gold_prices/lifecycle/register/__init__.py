# Generated from lifecycle/register/__init__.py by python -m lifecycle.sync; edit the source.
"""The register step: the champion rule, per-row evidence (checked when read back, and
paired on rows neither model trained on after a retrain), the fail-closed registry, the
champion contest among concurrent steps, the register run's record and golden set, and
its command."""

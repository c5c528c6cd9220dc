# Generated from lifecycle/register/__init__.py by python -m lifecycle.sync; edit the source.
"""The register step: the champion rule, per-row evidence, the fail-closed registry, the
champion contest among concurrent steps, the register run's record, and its command."""

# Generated from lifecycle/__init__.py by python -m lifecycle.sync; edit the source.
"""The step kit every project of the collection shares: one source, copied into each
project folder by ``python -m lifecycle.sync`` so that a folder stays self-contained.

- ``lifecycle.promotion``: the pure champion rule (which value wins, and the sentence
  that says why).
- ``lifecycle.registry``: registration that fails closed: champion lookup, the project
  a model name belongs to, comparable measurements and promotion under concurrency.
- ``lifecycle.failures``: the reason a step failed, recorded on its run.
"""

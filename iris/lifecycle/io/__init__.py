# Generated from lifecycle/io/__init__.py by python -m lifecycle.sync; edit the source.
"""The data a step reads and writes: locations, input tables, output folders (claimed,
taken over, completed by a manifest, read back), a project's data file and the pinned
external datasets."""

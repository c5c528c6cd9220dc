"""The benchmark: one command (``python -m bench``) that measures the workflow's speed
and memory side by side in one run and prints a table of figures, ratios and targets.

Timings are never asserted by the tests; CI runs ``python -m bench --quick`` only to
check that every measurement still works.
"""

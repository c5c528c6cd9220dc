"""``python -m gold_workflow``: the entry points of the gold_prices project."""

from gold_workflow.cli import main

main()

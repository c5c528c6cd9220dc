"""``python -m cities_workflow``: the entry points of the cities project."""

from cities_workflow.cli import main

main()

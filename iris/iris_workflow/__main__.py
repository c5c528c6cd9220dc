"""``python -m iris_workflow``: the iris entry points."""

from iris_workflow.cli import main

main()

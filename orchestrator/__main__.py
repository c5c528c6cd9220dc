"""``python -m orchestrator``: the orchestrator entry point."""

from orchestrator.cli import main

main()

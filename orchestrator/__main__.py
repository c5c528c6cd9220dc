"""``python -m orchestrator``: the orchestrator entry point; ``python -m orchestrator
monitor`` checks each champion and retrains on evidence (``orchestrator.watch``);
``python -m orchestrator new-project NAME`` creates a project folder
(``orchestrator.scaffold``)."""

import gc
import sys

if sys.argv[1:2] == ["new-project"]:
    from orchestrator.scaffold import main as scaffold

    sys.exit(scaffold(sys.argv[2:]))

from orchestrator.cli import main, monitor

try:
    if sys.argv[1:2] == ["monitor"]:
        monitor.main(sys.argv[2:], prog_name="python -m orchestrator monitor")
    else:
        main()
finally:
    # Exit without the collector's walk over every object at interpreter shutdown: with
    # MLflow, pandas and scikit-learn loaded it costs about a second per step process.
    # Streams are flushed and atexit handlers still run.
    gc.freeze()

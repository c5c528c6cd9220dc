"""``python -m orchestrator``: the orchestrator entry point; ``python -m orchestrator
monitor`` checks each champion and retrains on evidence (``orchestrator.watch``);
``python -m orchestrator new-project NAME`` creates a project folder
(``orchestrator.scaffold``)."""

import gc
import sys

# Signals first: a stop asked for while the libraries load is acted on at once.
from lifecycle.step import signals

signals.listen()

if sys.argv[1:2] == ["new-project"]:
    from orchestrator.scaffold import main as scaffold

    sys.exit(scaffold(sys.argv[2:]))

from lifecycle import contract  # noqa: E402
from lifecycle.step.command import run  # noqa: E402
from orchestrator.cli import main, monitor  # noqa: E402

try:
    if sys.argv[1:2] == ["monitor"]:
        run(
            monitor,
            run_name=contract.run_name(contract.ORCHESTRATOR, "monitor"),
            what="the orchestrator",
            args=sys.argv[2:],
            prog_name="python -m orchestrator monitor",
            started="the orchestrator",
        )
    else:
        run(main, contract.ORCHESTRATOR, "the orchestrator", started="the orchestrator")
finally:
    # Exit without the collector's walk over every object at interpreter shutdown: with
    # MLflow, pandas and scikit-learn loaded it costs about a second per step process.
    # Streams are flushed and atexit handlers still run.
    gc.freeze()

"""``python -m cities_workflow``: the entry points of the cities project."""

import gc

# Signals first: a stop asked for while the step's libraries load is acted on at its
# first safe point, the checkpoint (lifecycle.stop).
from lifecycle.step import signals

signals.listen()

from cities_workflow.cli import main  # noqa: E402

try:
    main()
finally:
    # Exit without the collector's walk over every object at interpreter shutdown: with
    # MLflow, pandas and scikit-learn loaded it costs about a second per step process.
    # Streams are flushed and atexit handlers still run.
    gc.freeze()

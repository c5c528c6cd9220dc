"""``python -m gold_workflow``: the entry points of the gold_prices project."""

import gc

from gold_workflow.cli import main

try:
    main()
finally:
    # Exit without the collector's walk over every object at interpreter shutdown: with
    # MLflow, pandas and scikit-learn loaded it costs about a second per step process.
    # Streams are flushed and atexit handlers still run.
    gc.freeze()

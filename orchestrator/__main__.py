"""``python -m orchestrator``: the orchestrator entry point."""

import gc

from orchestrator.cli import main

try:
    main()
finally:
    # Exit without the collector's walk over every object at interpreter shutdown: with
    # MLflow, pandas and scikit-learn loaded it costs about a second per step process.
    # Streams are flushed and atexit handlers still run.
    gc.freeze()

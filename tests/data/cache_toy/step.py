"""A stand-in step: records the step name and arguments it was given, then exits 0.

With ``TOY_STEP_SLEEP`` set it first sleeps that many seconds, so a test can interrupt
the orchestrator while a step runs.
"""

import json
import os
import sys
import time
from pathlib import Path

log = Path(os.environ["TOY_STEP_LOG"])
with log.open("a") as handle:
    handle.write(json.dumps(sys.argv[1:]) + "\n")
time.sleep(float(os.environ.get("TOY_STEP_SLEEP", "0")))

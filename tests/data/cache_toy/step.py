"""A stand-in step: records the step name and arguments it was given, then exits 0."""

import json
import os
import sys
from pathlib import Path

log = Path(os.environ["TOY_STEP_LOG"])
with log.open("a") as handle:
    handle.write(json.dumps(sys.argv[1:]) + "\n")

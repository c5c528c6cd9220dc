"""``python -m bench.warm_score``: several iris score jobs in one process, so that the
Spark session (and its Python workers) are started once and later jobs run warm, as a
service or a notebook that scores batch after batch would run them.

It prints one JSON object: the seconds the Spark session took to start (0 for pandas),
then per job its input, rows and ``score_seconds`` (the engine's own time: read, check,
predict, write). The first job is the cold one: its time also holds the Python
workers' start, imports and model load, which later jobs of the session reuse.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.warm_score")
    parser.add_argument("--engine", choices=("pandas", "spark"), required=True)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--output-root", required=True)
    parser.add_argument("--model-uri", default="models:/iris@champion")
    parser.add_argument("inputs", nargs="+", help="inputs, scored in this order")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from iris_workflow.scoring import IrisScorer
    from lifecycle.score.params import ScoreParams
    from lifecycle.score.step import score

    session_seconds = 0.0
    if args.engine == "spark":
        from lifecycle.spark.session import session

        started = time.perf_counter()
        session(args.master, "bench-warm", ("iris_workflow",))
        session_seconds = time.perf_counter() - started
    jobs = []
    for number, source in enumerate(args.inputs):
        params = ScoreParams(
            input=source,
            output=str(Path(args.output_root) / f"job-{number}"),
            model_uri=args.model_uri,
            engine=args.engine,
            spark_master=args.master,
        )
        result = score(params, IrisScorer())
        jobs.append(
            {
                "input": source,
                "rows": result.outcome.rows_in,
                "score_seconds": result.outcome.seconds,
            }
        )
    print(json.dumps({"session_seconds": session_seconds, "jobs": jobs}))  # noqa: T201


if __name__ == "__main__":
    main()

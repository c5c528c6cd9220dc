"""One concurrent client of the team server: logs ``--runs`` runs, each with four
metrics over ``--steps`` steps in batches, and prints the run ids it created."""

from __future__ import annotations

import argparse
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiment-id", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    import mlflow
    from mlflow.entities import Metric, Param

    client = mlflow.MlflowClient()
    for number in range(args.runs):
        run = client.create_run(args.experiment_id, run_name=f"w{args.worker}-r{number}")
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        metrics = [
            Metric(name, args.worker * 1000 + number * 100 + step, now, step)
            for step in range(args.steps)
            for name in ("loss", "accuracy", "latency", "throughput")
        ]
        client.log_batch(
            run_id,
            metrics=metrics,
            params=[Param("worker", str(args.worker)), Param("run", str(number))],
        )
        client.set_terminated(run_id, "FINISHED")
        sys.stdout.write(f"{run_id}\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

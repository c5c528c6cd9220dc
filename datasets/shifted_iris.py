"""Writes a labelled batch from a shifted iris population, and the iris table with it.

``python datasets/shifted_iris.py BATCH TABLE [--flowers 300] [--seed 0]`` writes
``BATCH``: ``--flowers`` new flowers, a third of each species, drawn from that species'
own distribution (the mean and covariance of its 50 rows in ``datasets/iris.csv``,
measurements to 0.1 cm), with both petal measurements then 30 % larger and the species
kept (a new population, not copies of old rows); and ``TABLE``: the iris table with the
batch appended, for retraining on the feedback. The monitoring story and the tests use
it (docs/monitoring.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

IRIS = Path(__file__).resolve().parent / "iris.csv"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
PETALS = ["petal_length", "petal_width"]
SCALE = 1.3


def shifted_iris(flowers: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The labelled batch, and the iris table with the batch appended."""
    table = pd.read_csv(IRIS)
    rng = np.random.default_rng(seed)
    parts = []
    for species, rows in table.groupby("species"):
        drawn = rng.multivariate_normal(rows[FEATURES].mean(), rows[FEATURES].cov(), flowers // 3)
        part = pd.DataFrame(np.round(np.abs(drawn), 1), columns=FEATURES)
        part["species"] = species
        parts.append(part)
    batch = pd.concat(parts, ignore_index=True)
    batch[PETALS] = (batch[PETALS] * SCALE).round(2)
    return batch, pd.concat([table, batch], ignore_index=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batch", type=Path, help="where to write the labelled batch (CSV)")
    parser.add_argument("table", type=Path, help="where to write the table plus the batch")
    parser.add_argument("--flowers", type=int, default=300, help="flowers in the batch")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the draw")
    args = parser.parse_args(argv)
    if args.flowers < 3:
        parser.error("--flowers must be at least 3 (one of each species)")
    batch, table = shifted_iris(args.flowers, args.seed)
    batch.to_csv(args.batch, index=False)
    table.to_csv(args.table, index=False)


if __name__ == "__main__":
    main()

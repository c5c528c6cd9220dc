"""Writes ``datasets/iris.csv`` from the iris copy bundled with scikit-learn.

``python datasets/write_iris.py`` rewrites the file; ``--check`` only verifies that the
committed file is byte-for-byte what scikit-learn's copy produces. The output has a
header ``sepal_length,sepal_width,petal_length,petal_width,species`` (centimetres,
species by name), LF line endings, and rows in scikit-learn's order.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

COLUMNS = ("sepal_length", "sepal_width", "petal_length", "petal_width", "species")
TARGET_FILE = Path(__file__).resolve().parent / "iris.csv"


def iris_csv_text() -> str:
    """The CSV text of scikit-learn's bundled iris data, with named species."""
    from sklearn.datasets import load_iris

    bunch = load_iris()
    lines = [",".join(COLUMNS)]
    for features, target in zip(bunch.data, bunch.target, strict=True):
        values = [repr(float(value)) for value in features]
        lines.append(",".join([*values, str(bunch.target_names[target])]))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    text = iris_csv_text()
    digest = hashlib.sha256(text.encode()).hexdigest()
    if args.check:
        current = TARGET_FILE.read_text() if TARGET_FILE.exists() else None
        if current != text:
            sys.stderr.write(
                f"{TARGET_FILE} differs from scikit-learn's copy; rerun without --check\n"
            )
            return 1
        sys.stdout.write(f"{TARGET_FILE} is up to date, sha256 {digest}\n")
        return 0
    TARGET_FILE.write_text(text)
    sys.stdout.write(f"wrote {TARGET_FILE}, sha256 {digest}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

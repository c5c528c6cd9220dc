"""Builds the matplotlib figures the iris runs log as images."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def confusion_matrix_figure(matrix: np.ndarray, labels: list[str], title: str) -> Figure:
    """A labelled heat map of ``matrix`` (rows: true class, columns: predicted class)."""
    figure, axes = plt.subplots(figsize=(4.8, 4.2), dpi=100)
    axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels=labels, rotation=30, ha="right")
    axes.set_yticks(range(len(labels)), labels=labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    threshold = matrix.max() / 2 if matrix.size else 0
    for row, col in np.ndindex(matrix.shape):
        colour = "white" if matrix[row, col] > threshold else "black"
        axes.text(col, row, str(matrix[row, col]), ha="center", va="center", color=colour)
    figure.tight_layout()
    return figure

"""Builds the matplotlib figures the iris runs log as images: the confusion matrix and
the tuning sweep's accuracy heat map."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle


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


def accuracy_heatmap_figure(
    table: pd.DataFrame, metric: str, best: tuple[int, int], title: str
) -> Figure:
    """``metric`` over max_depth (rows) x max_leaf_nodes (columns); the best cell outlined."""
    grid = table.pivot(index="max_depth", columns="max_leaf_nodes", values=metric).sort_index()
    grid = grid.reindex(sorted(grid.columns), axis=1)
    width = min(14.0, 2.5 + 0.5 * len(grid.columns))
    height = min(12.0, 2.0 + 0.4 * len(grid.index))
    figure, axes = plt.subplots(figsize=(width, height), dpi=100)
    image = axes.imshow(grid.to_numpy(), cmap="viridis", aspect="auto", origin="lower")
    figure.colorbar(image, ax=axes, label=metric)
    step_x = max(1, len(grid.columns) // 20)
    step_y = max(1, len(grid.index) // 20)
    axes.set_xticks(range(0, len(grid.columns), step_x), labels=grid.columns[::step_x])
    axes.set_yticks(range(0, len(grid.index), step_y), labels=grid.index[::step_y])
    axes.set_xlabel("max_leaf_nodes")
    axes.set_ylabel("max_depth")
    axes.set_title(title)
    if grid.size <= 225:
        values = grid.to_numpy(dtype=float)
        for row, col in np.ndindex(values.shape):
            value = values[row, col]
            if np.isfinite(value):
                axes.text(
                    col, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white"
                )
    leaves, depth = best
    col = [int(c) for c in grid.columns].index(leaves)
    row = [int(r) for r in grid.index].index(depth)
    axes.add_patch(
        Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2)
    )
    figure.tight_layout()
    return figure

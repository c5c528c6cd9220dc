"""Builds the figures a cities training run logs: the 2-D PCA map of the cities
coloured by region, and the explained variance per component."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def city_map_figure(catalog: pd.DataFrame, explained: np.ndarray) -> Figure:
    """Every city at its first two principal components, one colour per region."""
    figure, axes = plt.subplots(figsize=(9, 7), dpi=100)
    colours = plt.get_cmap("tab10")
    for index, (region, group) in enumerate(
        sorted(catalog.groupby("region"), key=lambda item: str(item[0]))
    ):
        axes.scatter(
            group["pc1"], group["pc2"], s=14, alpha=0.75, color=colours(index), label=region
        )
    extremes = pd.concat(
        [
            catalog.nlargest(3, "pc1"),
            catalog.nsmallest(3, "pc1"),
            catalog.nlargest(3, "pc2"),
            catalog.nsmallest(3, "pc2"),
        ]
    )
    for _, city in extremes.drop_duplicates("id").iterrows():
        axes.annotate(city["city"], (city["pc1"], city["pc2"]), fontsize=7, alpha=0.8)
    axes.set_xlabel(f"PC1 ({explained[0]:.1%} of variance)")
    axes.set_ylabel(f"PC2 ({explained[1]:.1%} of variance)")
    axes.set_title("Cities on the first two principal components")
    axes.legend(title="region", fontsize=8, markerscale=1.5)
    figure.tight_layout()
    return figure


def explained_variance_figure(explained: np.ndarray) -> Figure:
    """Bars of each component's share of variance and the running total."""
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    components = np.arange(1, len(explained) + 1)
    axes.bar(components, explained, color="tab:blue", label="component")
    axes.plot(components, np.cumsum(explained), color="tab:orange", marker="o", label="cumulative")
    axes.set_xticks(components, labels=[f"PC{i}" for i in components])
    axes.set_ylim(0, 1)
    axes.set_ylabel("share of variance")
    axes.legend()
    figure.tight_layout()
    return figure

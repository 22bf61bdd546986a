"""Pictures of expression data: faces per class and split, and a grid of faces with their labels."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from facexpr.figures import label_pixel_axes, plt


def class_count_chart(counts: pd.DataFrame, title: str) -> plt.Figure:
    """Grouped bars: faces per class (rows of ``counts``) for each split (its columns)."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    counts.plot.bar(ax=ax, rot=0)
    ax.set(title=title, xlabel="class", ylabel="faces")
    ax.legend(title=counts.columns.name)
    fig.tight_layout()
    return fig


def face_grid(faces: np.ndarray, captions: Sequence[str], title: str, columns: int = 8) -> plt.Figure:
    """Gray faces in a grid, each with its caption (e.g. its class, or truth -> prediction)."""
    rows = max(1, math.ceil(len(faces) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.6 * columns, 1.8 * rows + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(faces):
            ax.imshow(faces[i].squeeze(), cmap="gray", vmin=0, vmax=255)
            ax.set_title(captions[i], fontsize=8)
    fig.suptitle(title)
    label_pixel_axes(fig)
    fig.tight_layout()
    return fig

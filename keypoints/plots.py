"""Pictures of keypoint results: a grid of faces with true and predicted points, and per-keypoint error bars."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from facexpr.figures import label_pixel_axes, plt


def keypoint_grid(
    faces: np.ndarray, truth: np.ndarray | None, predicted: np.ndarray | None, title: str, columns: int = 6
) -> plt.Figure:
    """Faces with true (green) and/or predicted (red) keypoints."""
    count = len(faces)
    rows = max(1, math.ceil(count / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.0 * columns, 2.0 * rows + 0.6), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        ax.imshow(faces[i].squeeze(), cmap="gray", vmin=0, vmax=255)
        if truth is not None:
            ax.scatter(truth[i, :, 0], truth[i, :, 1], s=9, c="lime", label="truth")
        if predicted is not None:
            ax.scatter(predicted[i, :, 0], predicted[i, :, 1], s=9, c="red", marker="x", label="predicted")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2)
    fig.suptitle(title)
    label_pixel_axes(fig)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def per_keypoint_error(table: pd.DataFrame, title: str) -> plt.Figure:
    """Horizontal bars of each keypoint's RMSE in pixels."""
    fig, ax = plt.subplots(figsize=(7, 5))
    ordered = table.sort_values("rmse_px")
    ax.barh(ordered["keypoint"], ordered["rmse_px"], color="tab:blue", label="RMSE")
    ax.set(title=title, xlabel="RMSE (pixels at 96x96)", ylabel="keypoint")
    ax.legend()
    fig.tight_layout()
    return fig

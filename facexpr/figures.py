"""Matplotlib set up for files (no display needed), atomic PNG saving, and pictures as titled figures."""

from __future__ import annotations

import os
import sys

import matplotlib
import numpy as np

if "ipykernel" not in sys.modules:  # a notebook keeps its inline backend; elsewhere figures only go to files
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from facexpr.atomic import write_atomic  # noqa: E402


def save_figure(fig: plt.Figure, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write a figure to PNG atomically and close it."""
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi))
    plt.close(fig)


def label_pixel_axes(fig: plt.Figure) -> None:
    """Name the pixel axes of a figure of pictures once, for all its panels."""
    fig.supxlabel("x (pixels)")
    fig.supylabel("y (pixels)")


def picture_figure(image: np.ndarray, title: str, color: str = "bgr") -> plt.Figure:
    """One picture (BGR as OpenCV holds it, RGB, or gray) in a titled figure with pixel axes."""
    fig, ax = plt.subplots(figsize=(7, 7 * image.shape[0] / image.shape[1]))
    if image.ndim == 2:
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(image[..., 2::-1] if color == "bgr" else image[..., :3])
    ax.set(title=title, xlabel="x (pixels)", ylabel="y (pixels)")
    fig.tight_layout()
    return fig

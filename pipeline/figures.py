"""Matplotlib set up for files (no display needed) and atomic PNG saving."""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from pipeline.atomic import write_atomic  # noqa: E402


def save_figure(fig: plt.Figure, path: str | os.PathLike[str], dpi: int = 110) -> None:
    """Write a figure to PNG atomically and close it."""
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi))
    plt.close(fig)

"""Exposure of gray pictures: a dull picture (dark, washed out or hazy), or a dull face in a bright one (backlit, in
shadow), stretched to the full grey range before it is read, so the networks see it as they saw their training
pictures."""

from __future__ import annotations

import cv2
import numpy as np

#: A picture whose grey levels (all but the ``TAIL`` darkest and brightest pixels) span less than this is stretched:
#: under 0.5% of the training pictures span less (the wild photos 129 at the least, YouTube-Faces frames 101 at
#: their 0.5th percentile); a photo darkened to 30% spans at most 77.
MIN_SPAN = 100
#: The share of pixels left out at each end when measuring (and stretching) the span: a few hot pixels do not stop a
#: dull picture's stretch, and a small photo on a flat background (a scan, a slide) still counts its own grey levels.
TAIL = 0.001


def grey_span(gray: np.ndarray) -> tuple[int, int]:
    """The ``TAIL`` and 1 - ``TAIL`` percentile grey levels of a 2-D uint8 picture (from its histogram)."""
    histogram = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel()
    share = np.cumsum(histogram) / histogram.sum()
    return int(np.searchsorted(share, TAIL)), int(np.searchsorted(share, 1.0 - TAIL))


def dull_levels(gray: np.ndarray, min_span: int = MIN_SPAN) -> np.ndarray | None:
    """None where a 2-D uint8 picture's grey levels span at least ``min_span``; otherwise the 256-entry table that
    stretches its span linearly to 0-255 (the ``TAIL`` darkest and brightest pixels clipped), for ``cv2.LUT``."""
    low, high = grey_span(gray)
    if high - low >= min_span:
        return None
    levels = (np.arange(256, dtype=np.float32) - low) * (255.0 / max(high - low, 1))
    return np.clip(np.rint(levels), 0, 255).astype(np.uint8)


def stretch_dull(gray: np.ndarray, min_span: int = MIN_SPAN) -> np.ndarray:
    """``gray`` itself where its grey levels span at least ``min_span``, else a stretched copy (``dull_levels``)."""
    levels = dull_levels(gray, min_span)
    return gray if levels is None else cv2.LUT(gray, levels)

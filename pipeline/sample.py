"""The bundled sample photo (scikit-image's ``astronaut()``, shipped with that package: no download)."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data


def sample_photo() -> np.ndarray:
    """The astronaut photo (Eileen Collins, NASA; public domain) as a 512x512 BGR array."""
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def sample_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """A ``width x height`` BGR frame showing the sample photo at its own scale, top-centred and cropped to fit.

    One face, for benchmarks and video tests. (Resized to 480x480 instead, the suit also passes as a weak face.)
    """
    photo = sample_photo()
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    w, h = min(width, photo.shape[1]), min(height, photo.shape[0])
    x, px = max(0, (width - w) // 2), (photo.shape[1] - w) // 2
    frame[:h, x : x + w] = photo[:h, px : px + w]
    return frame

"""The bundled sample photo (scikit-image's ``astronaut()``, shipped with that package: no download)."""

from __future__ import annotations

import cv2
import numpy as np
from skimage import data


def sample_photo() -> np.ndarray:
    """The astronaut photo (Eileen Collins, NASA; public domain) as a 512x512 BGR array."""
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def sample_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """The sample photo fitted into a ``width x height`` BGR frame (one face), for benchmarks and video tests."""
    photo = sample_photo()
    side = min(width, height)
    face = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - side) // 2, (height - side) // 2
    frame[y : y + side, x : x + side] = face
    return frame

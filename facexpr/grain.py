"""Grain of gray pictures: a noisy picture (a dim room, a phone's high ISO) smoothed before it is read, so the
detector sees faces, not speckle."""

from __future__ import annotations

import math

import cv2
import numpy as np

#: A picture whose estimated noise is at least this many grey levels (sd) is smoothed. The training pictures estimate
#: 0.2-12.5 (99.9% of them under 8.3); noise of sd 15 added to them cost the detector a quarter of the faces.
GRAIN_LIMIT = 10.0
#: The smoothing: a Gaussian blur of this sd in pixels.
SMOOTH_SIGMA = 1.0

# The difference of two Laplacians, blind to a picture's smooth content (Immerkaer, "Fast noise variance
# estimation", 1996); written here because scikit-image's (wavelet) estimate needs PyWavelets, not a dependency.
_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sd(gray: np.ndarray) -> float:
    """The estimated sd of a 2-D uint8 picture's pixel noise, in grey levels (about 0.3 ms for 640x480)."""
    response = cv2.filter2D(gray, cv2.CV_16S, _KERNEL)[1:-1, 1:-1]  # at most 16 x 255 either way
    return math.sqrt(math.pi / 2.0) * cv2.norm(response, cv2.NORM_L1) / (6.0 * response.size)


def smooth_grain(gray: np.ndarray, limit: float = GRAIN_LIMIT) -> np.ndarray:
    """``gray`` itself where its estimated noise is under ``limit``; otherwise a copy smoothed by a Gaussian blur of
    ``SMOOTH_SIGMA`` px."""
    if min(gray.shape) < 3 or noise_sd(gray) < limit:
        return gray
    return cv2.GaussianBlur(gray, (0, 0), SMOOTH_SIGMA)

"""Scaling between keypoints in crop pixels and the model's outputs (about [-1, 1])."""

from __future__ import annotations

import numpy as np

from keypoints.constants import NUM_KEYPOINTS


def encode(keypoints: np.ndarray, size: int) -> np.ndarray:
    """(N, 15, 2) crop pixels to (N, 30) targets: 0 at the crop centre, +-1 at its edges; NaN stays NaN."""
    half = size / 2.0
    return ((np.asarray(keypoints, np.float32) - (size - 1) / 2.0) / half).reshape(len(keypoints), 2 * NUM_KEYPOINTS)


def decode(outputs: np.ndarray, size: int) -> np.ndarray:
    """(N, 30) model outputs to (N, 15, 2) crop pixels."""
    half = size / 2.0
    return (np.asarray(outputs, np.float32).reshape(len(outputs), NUM_KEYPOINTS, 2) * half + (size - 1) / 2.0).astype(
        np.float32
    )

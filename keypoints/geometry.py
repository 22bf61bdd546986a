"""Geometry of keypoints: mirroring with left/right swap and affine warps of face images with their points."""

from __future__ import annotations

import cv2
import numpy as np

from keypoints.constants import FLIP_PERMUTATION


def mirror_keypoints(keypoints: np.ndarray, width: int, offset: float = 0.0) -> np.ndarray:
    """Keypoints (..., 15, 2) of the horizontally mirrored image: x -> width-1-x + 2*offset, left and right swapped.

    ``offset`` is how far right of mirror symmetry the labels sit, in pixels: labels drawn ``offset`` right of
    the features they mark keep that habit in the mirrored image only if they move ``2 * offset`` right.
    Mirroring twice with the same offset gives the points back.
    """
    mirrored = np.array(keypoints, dtype=np.float32, copy=True)
    mirrored[..., 0] = (width - 1) - mirrored[..., 0] + 2.0 * offset
    return mirrored[..., list(FLIP_PERMUTATION), :]


def mirror(image: np.ndarray, keypoints: np.ndarray, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A horizontally mirrored image (H, W) with its keypoints (see ``mirror_keypoints`` for ``offset``)."""
    return image[:, ::-1], mirror_keypoints(keypoints, image.shape[1], offset)


def warp(image: np.ndarray, keypoints: np.ndarray, matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Warp an image to ``size x size`` by a 2x3 matrix and move its keypoints the same way."""
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = keypoints @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)
    return out, moved.astype(np.float32)

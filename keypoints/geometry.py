"""Geometry of keypoints: mirroring with left/right swap and affine warps of face images with their points."""

from __future__ import annotations

import cv2
import numpy as np

from keypoints.constants import FLIP_PERMUTATION


def mirror_keypoints(keypoints: np.ndarray, width: int) -> np.ndarray:
    """Keypoints (..., 15, 2) of the horizontally mirrored image: x -> width-1-x, left and right swapped."""
    mirrored = np.array(keypoints, dtype=np.float32, copy=True)
    mirrored[..., 0] = (width - 1) - mirrored[..., 0]
    return mirrored[..., list(FLIP_PERMUTATION), :]


def mirror(image: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A horizontally mirrored image (H, W) with its keypoints."""
    return image[:, ::-1], mirror_keypoints(keypoints, image.shape[1])


def warp(image: np.ndarray, keypoints: np.ndarray, matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Warp an image to ``size x size`` by a 2x3 matrix and move its keypoints the same way."""
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = keypoints @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)
    return out, moved.astype(np.float32)

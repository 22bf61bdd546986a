"""Geometry of keypoints: mirroring with left/right swap and affine warps of face images with their points."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from facexpr.errors import InvalidInputError
from keypoints.constants import FLIP_PERMUTATION, NUM_KEYPOINTS

LabelOffset = float | Sequence[Sequence[float]]


def label_offsets(offset: LabelOffset) -> np.ndarray:
    """(15, 2) offsets of the labels from the features they mark: a number is an x offset shared by every point."""
    if np.ndim(offset) == 0:
        return np.tile(np.array([[float(offset), 0.0]], dtype=np.float32), (NUM_KEYPOINTS, 1))  # type: ignore[arg-type]
    offsets = np.asarray(offset, dtype=np.float32)
    if offsets.shape != (NUM_KEYPOINTS, 2):
        raise InvalidInputError(
            f"label offsets must be a number or one (dx, dy) per keypoint, got shape {offsets.shape}"
        )
    return offsets


def mirror_keypoints(keypoints: np.ndarray, width: int, offset: LabelOffset = 0.0) -> np.ndarray:
    """Keypoints (..., 15, 2) of the horizontally mirrored image: x -> width-1-x, left and right swapped.

    ``offset`` says how the labels sit off the features they mark, in pixels (``label_offsets``). Mirrored
    labels keep that habit only if point k moves by (dx_k + dx_k', dy_k - dy_k'), k' being its mirror partner:
    the part of the habit that breaks mirror symmetry. Mirroring twice with the same offset gives the points back.
    """
    d = label_offsets(offset)
    pairs = list(FLIP_PERMUTATION)
    habit = np.stack([d[:, 0] + d[pairs, 0], d[:, 1] - d[pairs, 1]], axis=-1)
    mirrored = np.array(keypoints, dtype=np.float32, copy=True)
    mirrored[..., 0] = (width - 1) - mirrored[..., 0]
    return mirrored[..., pairs, :] + habit


def mirror(image: np.ndarray, keypoints: np.ndarray, offset: LabelOffset = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A horizontally mirrored image (H, W) with its keypoints (see ``mirror_keypoints`` for ``offset``)."""
    return image[:, ::-1], mirror_keypoints(keypoints, image.shape[1], offset)


def warp(image: np.ndarray, keypoints: np.ndarray, matrix: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Warp an image to ``size x size`` by a 2x3 matrix and move its keypoints the same way."""
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    moved = keypoints @ matrix[:, :2].T.astype(np.float32) + matrix[:, 2].astype(np.float32)
    return out, moved.astype(np.float32)

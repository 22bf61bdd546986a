"""Similarity transforms between square images (rotation, scale, shift about the centre) for augmentation, and
points moved by a 2x3 matrix."""

from __future__ import annotations

import cv2
import numpy as np


def similarity_matrix(
    src_size: int, dst_size: int, angle_deg: float, scale: float, shift: tuple[float, float] | np.ndarray
) -> np.ndarray:
    """2x3 matrix taking the centre of a ``src_size`` square to the centre of a ``dst_size`` square (plus ``shift``),
    rotated by ``angle_deg`` and scaled by ``scale`` about it (pixel-centre convention)."""
    matrix = cv2.getRotationMatrix2D(((src_size - 1) / 2.0, (src_size - 1) / 2.0), angle_deg, scale)
    matrix[:, 2] += (dst_size - src_size) / 2.0 + np.asarray(shift, dtype=np.float64)
    return matrix


def moved_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (..., 2) moved by a 2x3 affine ``matrix`` (as ``cv2.warpAffine`` moves pixels), in float64."""
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


def moved_back(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Points (..., 2) that ``matrix`` (2x3) moved, back where they were (``cv2.invertAffineTransform``)."""
    return moved_points(cv2.invertAffineTransform(matrix), points)

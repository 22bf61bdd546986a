"""The second keypoint read: each face turned, scaled and moved so the first read's points sit on the training faces'
mean shape, read again from its wider context crop, and the points mapped back."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.transform import SimilarityTransform

from facexpr.errors import InvalidInputError
from keypoints.constants import NUM_KEYPOINTS

#: The mean of the 15 keypoints (96x96 crop pixels) over the keypoint split's training faces (YouTube-Faces people
#: and wild-faces-68 photos, pooled, cropped around the ``cnn`` detector's boxes; ``mean_shape`` of their crops,
#: rounded to 0.1 px).
MEAN_SHAPE = np.array(
    [
        [66.3, 38.3],
        [30.9, 38.7],
        [59.2, 38.8],
        [73.1, 38.0],
        [37.9, 39.1],
        [24.1, 38.5],
        [57.7, 27.2],
        [80.6, 29.5],
        [39.1, 27.5],
        [15.9, 30.2],
        [49.4, 59.1],
        [63.9, 77.2],
        [34.4, 77.5],
        [49.4, 73.5],
        [49.6, 85.1],
    ],
    dtype=np.float32,
)
MEAN_SHAPE_SIZE = 96


def mean_shape(keypoints: np.ndarray) -> np.ndarray:
    """(15, 2) mean of (N, 15, 2) keypoints, ignoring missing (NaN) ones."""
    return np.nanmean(np.asarray(keypoints, dtype=np.float64), axis=0).astype(np.float32)


def realign_matrices(points: np.ndarray, size: int, context_size: int) -> np.ndarray:
    """(N, 2, 3) matrices from each face's context crop (``context_size``, the ``size`` crop at its centre) to a
    ``size`` crop where the face's ``points`` ((N, 15, 2), ``size`` crop pixels) lie on ``MEAN_SHAPE`` as closely
    as a similarity transform can put them (least squares). A face whose points give no transform keeps its crop."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (NUM_KEYPOINTS, 2):
        raise InvalidInputError(f"points must be an (N, {NUM_KEYPOINTS}, 2) array, not {points.shape}")
    target = (MEAN_SHAPE + 0.5) * size / MEAN_SHAPE_SIZE - 0.5
    offset = (context_size - size) / 2.0
    keep = np.array([[1.0, 0.0, -offset], [0.0, 1.0, -offset]])
    matrices = np.empty((len(points), 2, 3))
    for face, out in zip(points, matrices, strict=True):
        found = np.isfinite(face).all(axis=1)
        fitted = SimilarityTransform.from_estimate(face[found] + offset, target[found]) if found.sum() >= 2 else None
        out[:] = fitted.params[:2] if fitted else keep
    return matrices


def realigned_faces(context: np.ndarray, matrices: np.ndarray, size: int) -> np.ndarray:
    """(N, size, size) faces warped out of their (N, C, C) context crops by ``matrices`` (edges replicated)."""
    return np.stack(
        [
            cv2.warpAffine(face, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            for face, matrix in zip(np.ascontiguousarray(context), matrices, strict=True)
        ]
    )


def points_back(points: np.ndarray, matrices: np.ndarray, size: int, context_size: int) -> np.ndarray:
    """(N, 15, 2) points read on ``realigned_faces`` mapped back to the ``size`` crop's pixels."""
    inverse = np.stack([cv2.invertAffineTransform(m) for m in matrices])
    in_context = np.einsum("nij,nkj->nki", inverse[:, :, :2], points) + inverse[:, None, :, 2]
    return (in_context - (context_size - size) / 2.0).astype(np.float32)

"""Test-time views of expression faces: each face at several scales about its centre and mirrored, read in one batch
and averaged back to one row per face."""

from __future__ import annotations

import cv2
import numpy as np

from facexpr.affine import similarity_matrix

#: The scales ``--multiscale`` reads each face at: the zoom range the shipped networks were trained on (1 +- 0.12).
MULTISCALE = (0.88, 0.92, 0.96, 1.0, 1.04, 1.08, 1.12)
SINGLE_SCALE = (1.0,)


def scaled(faces: np.ndarray, scale: float) -> np.ndarray:
    """(N, S, S) faces zoomed by ``scale`` about their centres, borders reflected as in training augmentation."""
    if scale == 1.0:
        return faces
    faces, size = np.ascontiguousarray(faces), faces.shape[1]
    matrix = similarity_matrix(size, size, 0.0, scale, (0.0, 0.0))
    out = np.empty_like(faces)  # stays empty for a frame without faces
    for face, dst in zip(faces, out, strict=True):
        cv2.warpAffine(face, matrix, (size, size), dst=dst, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return out


def with_views(faces: np.ndarray, scales: tuple[float, ...], mirror: bool) -> np.ndarray:
    """(V*N, S, S): ``faces`` at each of ``scales``, then all of those mirrored when ``mirror`` (view-major order)."""
    views = [scaled(faces, scale) for scale in scales]
    if mirror:
        views += [view[:, :, ::-1] for view in views]
    return np.concatenate(views)  # the one copy of the batch


def average_views(outputs: np.ndarray, views: int) -> np.ndarray:
    """(N, C): the mean over views of ``with_views``' (V*N, C) outputs."""
    return outputs.reshape(views, len(outputs) // views, *outputs.shape[1:]).mean(axis=0)

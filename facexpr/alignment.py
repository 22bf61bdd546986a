"""Eye alignment: the one rule that turns, scales and moves a square face crop so its eye centres land on fixed
places. Training applies it to FER2013 faces (eyes read by the keypoint model) and the pipeline to its expression
crops (eyes from the keypoints it has just placed)."""

from __future__ import annotations

import cv2
import numpy as np

from facexpr.errors import InvalidInputError

#: Where the eye centres sit in FER2013's own 48x48 framing (the median over its 28,709 Training faces, read by the
#: keypoint model): the subject's left eye (image right) first, then the right. Aligned faces keep FER2013's framing.
CANONICAL_EYES = np.array([[33.1, 18.7], [15.2, 18.7]])
CANONICAL_SIZE = 48
#: The zoom is clipped to this range, so a misread (or a face in profile, eyes close together) is never blown up.
ZOOM_RANGE = (0.8, 1.25)
#: Turns beyond this many degrees are clipped (a misread eye pair must not stand a face on its head).
MAX_TURN_DEG = 45.0


def canonical_eyes(size: int) -> np.ndarray:
    """(2, 2) canonical eye centres in a ``size`` x ``size`` crop (pixel-centre convention)."""
    return (CANONICAL_EYES + 0.5) * size / CANONICAL_SIZE - 0.5


def alignment_matrix(eyes: np.ndarray, size: int) -> np.ndarray:
    """2x3 matrix taking a ``size`` square crop whose eye centres are ``eyes`` ((2, 2): left, right, crop pixels) to
    its aligned crop: the eye line level, the eyes' midpoint on the canonical one, the eye distance canonical
    (zoom within ``ZOOM_RANGE``). Non-finite eyes give the identity."""
    eyes = np.asarray(eyes, dtype=np.float64)
    if eyes.shape != (2, 2):
        raise InvalidInputError(f"eyes must be a (2, 2) array of left and right eye centres, not {eyes.shape}")
    source = eyes[0] - eyes[1]
    distance = float(np.hypot(*source))
    if not np.all(np.isfinite(eyes)) or distance < 1e-6:
        return np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    target = canonical_eyes(size)
    turn = np.clip(np.degrees(np.arctan2(source[1], source[0])), -MAX_TURN_DEG, MAX_TURN_DEG)
    zoom = float(np.clip(np.hypot(*(target[0] - target[1])) / distance, *ZOOM_RANGE))
    centre = eyes.mean(axis=0)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(turn), zoom)
    matrix[:, 2] += target.mean(axis=0) - centre
    return matrix


def align_faces(faces: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """(N, S, S) faces aligned by ``alignment_matrix`` from their (N, 2, 2) eye centres (edges replicated)."""
    faces = np.ascontiguousarray(faces)
    if faces.ndim != 3 or faces.shape[1] != faces.shape[2]:
        raise InvalidInputError(f"faces must be an (N, S, S) batch of square gray crops, not {faces.shape}")
    if len(eyes) != len(faces):
        raise InvalidInputError(f"{len(faces)} faces but {len(eyes)} eye pairs")
    size = faces.shape[1]
    aligned = np.empty_like(faces)
    for face, pair, out in zip(faces, eyes, aligned, strict=True):
        cv2.warpAffine(
            face,
            alignment_matrix(pair, size),
            (size, size),
            dst=out,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    return aligned

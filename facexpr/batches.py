"""Validation of face batches handed to the models: a clear error instead of a crash deep inside Keras."""

from __future__ import annotations

import numpy as np

from facexpr.errors import InvalidInputError


def as_float_batch(faces: object, what: str = "faces") -> np.ndarray:
    """A (N, H, W) or (N, H, W, C) numeric batch as float32 in 0..255 (floats with max <= 1 are taken as 0..1)."""
    if faces is None:
        raise InvalidInputError(f"{what} is None; expected a NumPy array of shape (N, H, W) or (N, H, W, C)")
    if isinstance(faces, (list, tuple)):
        try:
            faces = np.stack([np.asarray(face) for face in faces]) if len(faces) else np.zeros((0, 1, 1))
        except ValueError as error:
            raise InvalidInputError(f"{what}: the faces in the list differ in shape ({error})") from None
    if not isinstance(faces, np.ndarray):
        raise InvalidInputError(f"{what} must be a NumPy array, got {type(faces).__name__}")
    if faces.dtype == bool or not (np.issubdtype(faces.dtype, np.integer) or np.issubdtype(faces.dtype, np.floating)):
        raise InvalidInputError(f"{what} must hold integers (uint8) or floats, got dtype {faces.dtype}")
    if faces.ndim not in (3, 4):
        raise InvalidInputError(
            f"{what} must be a batch of shape (N, H, W) or (N, H, W, C), got {faces.ndim}-D shape {faces.shape}"
            + ("; wrap a single face as faces[None]" if faces.ndim == 2 else "")
        )
    if faces.ndim == 4 and faces.shape[-1] not in (1, 3, 4):
        raise InvalidInputError(f"{what} has {faces.shape[-1]} channels; expected 1 (gray), 3 (BGR) or 4 (BGRA)")
    batch = faces.astype(np.float32)
    if batch.size and not np.isfinite(batch).all():
        raise InvalidInputError(f"{what} contains NaN or infinite values")
    if np.issubdtype(faces.dtype, np.floating) and batch.size and batch.max() <= 1.0:
        batch = batch * 255.0
    if batch.size and (batch.min() < 0 or batch.max() > 255):
        raise InvalidInputError(
            f"{what} values must lie in 0..255 (or 0..1 for floats), got {batch.min():g}..{batch.max():g}"
        )
    return batch

"""Training augmentation for expression faces: flip, rotation, shift, zoom, photometric jitter, random erasing, and
mixup across a batch."""

from __future__ import annotations

import cv2
import numpy as np

from expressions.config import ExpressionConfig
from facexpr.affine import similarity_matrix
from facexpr.photometric import Photometric


class ExpressionAugmenter:
    """Random jitter of one gray face; the label does not change."""

    def __init__(self, config: ExpressionConfig) -> None:
        self.config = config
        self.photometric = Photometric(config.brightness, config.contrast, config.blur_prob, config.noise_prob)

    def __call__(self, face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """An augmented float32 copy (0..255) of a square 2-D gray face."""
        c = self.config
        size = face.shape[0]
        if rng.random() < c.flip_prob:
            face = face[:, ::-1]
        matrix = similarity_matrix(
            size,
            size,
            rng.uniform(-c.rotation_deg, c.rotation_deg),
            rng.uniform(1.0 - c.zoom, 1.0 + c.zoom),
            rng.uniform(-c.shift, c.shift, size=2) * size,
        )
        face = cv2.warpAffine(face, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        face = self.photometric(face, rng)
        if rng.random() < c.erase_prob:
            face = self._erase(face, rng)
        return face

    @staticmethod
    def _erase(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        size = face.shape[0]
        area = rng.uniform(0.02, 0.15) * size * size
        aspect = np.exp(rng.uniform(np.log(0.4), np.log(2.5)))
        h = int(min(size, round(np.sqrt(area * aspect))))
        w = int(min(size, round(np.sqrt(area / aspect))))
        y, x = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
        face = face.copy()
        face[y : y + h, x : x + w] = rng.uniform(0, 255, (h, w))
        return face


def mixup(
    images: np.ndarray, targets: np.ndarray, weights: np.ndarray, alpha: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blend each face of a batch with another face of it (Zhang et al., 2018): with lambda ~ Beta(alpha, alpha) per
    face, images, targets and sample weights all become lambda * own + (1 - lambda) * partner's. ``alpha`` 0 leaves
    the batch as it is."""
    if alpha <= 0.0 or len(images) < 2:
        return images, targets, weights
    lam = rng.beta(alpha, alpha, size=len(images)).astype(np.float32)
    partner = rng.permutation(len(images))

    def blend(values: np.ndarray) -> np.ndarray:
        share = lam.reshape((-1,) + (1,) * (values.ndim - 1))
        return (share * values + (1.0 - share) * values[partner]).astype(np.float32)

    return blend(images), blend(targets), blend(weights)

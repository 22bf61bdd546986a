"""Training augmentation for keypoints: flip, rotation, shift and scale move the image and its points together."""

from __future__ import annotations

import numpy as np

from facexpr.affine import similarity_matrix
from facexpr.photometric import Photometric
from keypoints.config import KeypointConfig
from keypoints.geometry import mirror, warp
from keypoints.realign import realign_matrices


class KeypointAugmenter:
    """Random geometric and photometric jitter of a context crop into a ``input_size`` training face."""

    def __init__(self, config: KeypointConfig) -> None:
        self.config = config
        self.photometric = Photometric(config.brightness, config.contrast, config.blur_prob, config.noise_prob)

    def __call__(
        self, context: np.ndarray, keypoints: np.ndarray, rng: np.random.Generator, face_set: str = "youtube"
    ) -> tuple[np.ndarray, np.ndarray]:
        """One augmented face (float32, 0..255) and its keypoints from a context crop and context keypoints of
        ``face_set`` (whose labels' offset a flip keeps)."""
        c = self.config
        if rng.random() < c.flip_prob:
            context, keypoints = mirror(context, keypoints, c.offset_for(face_set))
        if rng.random() < c.realign_prob:  # as the second read sees it: its points, as a first read places them,
            # on the mean shape
            guessed = keypoints - (context.shape[0] - c.input_size) / 2.0
            guessed = guessed + rng.normal(0.0, c.realign_noise_px, size=guessed.shape)
            matrix = realign_matrices(guessed[None], c.input_size, context.shape[0])[0]
        else:
            shift = rng.uniform(-c.shift, c.shift, size=2) * c.input_size
            matrix = similarity_matrix(
                context.shape[0],
                c.input_size,
                rng.uniform(-c.rotation_deg, c.rotation_deg),
                rng.uniform(*c.scale_range),
                shift,
            )
        face, moved = warp(context, keypoints, matrix, c.input_size)
        return self.photometric(face, rng), moved

    def centre(self, context: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The un-augmented face: the centre of the context crop."""
        matrix = similarity_matrix(context.shape[0], self.config.input_size, 0.0, 1.0, (0.0, 0.0))
        face, moved = warp(context, keypoints, matrix, self.config.input_size)
        return face.astype(np.float32), moved

"""Photometric augmentation of gray faces (brightness, contrast, blur, noise, JPEG compression), shared by the
stages' training."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: The range of JPEG qualities a compressed training picture is saved at (both ends included).
JPEG_QUALITY = (15, 60)


@dataclass(frozen=True)
class Photometric:
    """Random brightness (additive, fraction of 255), contrast (x 1 +- contrast), blur, noise and JPEG compression
    (quality ``JPEG_QUALITY``: the blocks and ringing of web pictures and video frames)."""

    brightness: float = 0.2
    contrast: float = 0.3
    blur_prob: float = 0.2
    noise_prob: float = 0.2
    jpeg_prob: float = 0.0

    def __call__(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A jittered float32 copy of a 2-D gray image, still in 0..255."""
        out = image.astype(np.float32)
        if self.blur_prob and rng.random() < self.blur_prob:
            out = cv2.GaussianBlur(out, (0, 0), sigmaX=rng.uniform(0.4, 1.3))
        mean = out.mean()
        factor = rng.uniform(1.0 - self.contrast, 1.0 + self.contrast)
        out = (out - mean) * factor + mean + rng.uniform(-self.brightness, self.brightness) * 255.0
        if self.noise_prob and rng.random() < self.noise_prob:
            out += rng.normal(0.0, rng.uniform(2.0, 8.0), size=out.shape).astype(np.float32)
        out = np.clip(out, 0.0, 255.0)
        if self.jpeg_prob and rng.random() < self.jpeg_prob:
            quality = int(rng.integers(*JPEG_QUALITY, endpoint=True))
            encoded = cv2.imencode(".jpg", out.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
            out = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE).astype(np.float32)
        return out

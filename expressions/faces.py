"""FER2013 faces of one split as a preset sees them: images, the preset's class indices and their source rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from expressions.datasets import ExpressionSamples
from expressions.inference import resize_faces
from expressions.presets import Preset


@dataclass
class LabelledFaces:
    """Faces of one split mapped to a preset: images, preset class indices and source rows."""

    images: np.ndarray  # (N, S, S) uint8
    targets: np.ndarray  # (N,) index into the preset's classes
    rows: np.ndarray  # (N,) row in fer2013.csv
    usage: str

    def joined(self, other: LabelledFaces) -> LabelledFaces:
        """These faces followed by ``other``'s (same split, same size)."""
        return LabelledFaces(
            np.concatenate([self.images, other.images]),
            np.concatenate([self.targets, other.targets]),
            np.concatenate([self.rows, other.rows]),
            self.usage,
        )


def preset_faces(samples: ExpressionSamples, preset: Preset, usage: str, size: int) -> LabelledFaces:
    """One split's faces that ``preset`` keeps, resized to ``size`` if needed."""
    part = samples.split(usage)
    targets, keep = preset.map_labels(part.labels)
    return LabelledFaces(resize_faces(part.images[keep], size), targets, part.rows[keep], usage)

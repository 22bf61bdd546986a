"""The per-face record: detector box and score, 15 keypoints in image pixels, expression label and probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from keypoints.constants import KEYPOINT_NAMES


@dataclass(frozen=True, eq=False)
class Face:
    """One face found in a picture. ``keypoints`` is a read-only (15, 2) array ordered as ``KEYPOINT_NAMES``."""

    box: tuple[int, int, int, int]  # x, y, w, h in image pixels
    score: float  # detector confidence
    keypoints: np.ndarray  # (15, 2) float32 (x, y) in image pixels
    label: str | None  # most likely expression; None for a face that shows none of the preset's classes
    probabilities: MappingProxyType[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        points = np.array(self.keypoints, dtype=np.float32).reshape(len(KEYPOINT_NAMES), 2)
        points.setflags(write=False)
        object.__setattr__(self, "keypoints", points)
        object.__setattr__(self, "box", tuple(int(v) for v in self.box))
        object.__setattr__(
            self, "probabilities", MappingProxyType({k: float(v) for k, v in dict(self.probabilities).items()})
        )

    @property
    def confidence(self) -> float:
        """Probability of ``label`` (NaN for a face without one)."""
        return self.probabilities.get(self.label, float("nan")) if self.label else float("nan")

    def keypoint(self, name: str) -> tuple[float, float]:
        """(x, y) of a keypoint by name."""
        x, y = self.keypoints[KEYPOINT_NAMES.index(name)]
        return float(x), float(y)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "box": {"x": self.box[0], "y": self.box[1], "w": self.box[2], "h": self.box[3]},
            "score": round(self.score, 4),
            "label": self.label,
            "confidence": round(self.confidence, 4) if self.label else None,
            "probabilities": {k: round(v, 4) for k, v in self.probabilities.items()},
            "keypoints": {
                n: [round(float(x), 2), round(float(y), 2)]
                for n, (x, y) in zip(KEYPOINT_NAMES, self.keypoints, strict=True)
            },
        }

    def to_row(self) -> dict[str, Any]:
        """One flat table row under ``row_columns``: box, score, label, per-class probabilities, then x/y of every
        keypoint."""
        values = [
            *self.box,
            self.score,
            self.label,
            self.confidence,
            *self.probabilities.values(),
            *(float(v) for v in self.keypoints.ravel()),  # x, y of each keypoint in turn
        ]
        return dict(zip(row_columns(tuple(self.probabilities)), values, strict=True))


def row_columns(classes: Sequence[str]) -> list[str]:
    """The columns of ``Face.to_row`` for faces read with ``classes``: a table keeps them when no face was found."""
    return [
        *("x", "y", "w", "h", "score", "label", "confidence"),
        *(f"p_{c}" for c in classes),
        *(f"{name}_{axis}" for name in KEYPOINT_NAMES for axis in "xy"),
    ]

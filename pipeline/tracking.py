"""Detection for video: a full search every few frames, and between them a search near each face already found."""

from __future__ import annotations

from typing import Any

import numpy as np

from detection.detectors import Detection, FaceDetector, box_iou
from facexpr.errors import InvalidInputError

#: Two tracked boxes overlapping more than this are one face.
SAME_FACE_IOU = 0.5
#: Frames between two full-frame face searches (faces are followed in between): 1 s at 30 frames/s.
#: On 2 cores this takes a 640x480 video from 9 (every frame) or 33 (every 10) to 42 frames/s.
DETECT_EVERY = 30


class TrackingDetector(FaceDetector):
    """Wraps a detector for consecutive frames of one video.

    Every ``every`` frames (and whenever a face is lost) the whole frame is searched, which finds new faces;
    in between, each face is looked for only around its last box and at about its last size
    (``FaceDetector.detect_near``), which costs a fraction of a full search. ``every=1`` searches every frame.
    """

    name = "tracking"

    def __init__(self, detector: FaceDetector, every: int = DETECT_EVERY, margin: float = 0.5) -> None:
        if every < 1:
            raise InvalidInputError(f"searching the whole frame every N frames needs N >= 1, got {every}")
        self.detector, self.every, self.margin = detector, every, margin
        self.min_size = detector.min_size
        self.reset()

    def reset(self) -> None:
        """Forget the faces of earlier frames (a new video starts)."""
        self.previous: list[Detection] = []
        self.since_full = 0

    def search(self, gray: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        return self.detector.search(gray, min_size, max_size)

    def detect(self, gray: np.ndarray) -> list[Detection]:
        """Faces in this frame, largest first."""
        if self.previous and self.since_full < self.every - 1:
            near = [self.detector.detect_near(gray, d.box, self.margin) for d in self.previous]
            found = [d for d in near if d is not None]
            if len(found) == len(near):
                self.since_full += 1
                self.previous = distinct(found)
                return self.previous
        self.since_full = 0
        self.previous = self.detector.detect(gray)
        return self.previous

    def params(self) -> dict[str, Any]:
        return {**self.detector.params(), "tracking_every": self.every, "tracking_margin": self.margin}


def distinct(detections: list[Detection]) -> list[Detection]:
    """The detections, largest first, without boxes that repeat a larger one (two tracks that met)."""
    kept: list[Detection] = []
    for d in sorted(detections, key=lambda d: d.box[2] * d.box[3], reverse=True):
        if all(box_iou(d.box, k.box) <= SAME_FACE_IOU for k in kept):
            kept.append(d)
    return kept

"""Face detection: detectors behind one small interface (``FaceDetector``), chosen by name (``get_detector``).

Both the keypoint stage's training crops and the pipeline find faces through here.
"""

from __future__ import annotations

from detection.detectors import (
    DETECTORS,
    Detection,
    FaceDetector,
    HaarFaceDetector,
    box_contains,
    box_iou,
    get_detector,
)

__all__ = ["DETECTORS", "Detection", "FaceDetector", "HaarFaceDetector", "box_contains", "box_iou", "get_detector"]

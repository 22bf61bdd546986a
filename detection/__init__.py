"""Face detection: detectors behind one small interface (``FaceDetector``), chosen by name (``get_detector``).

Both the keypoint stage's training crops and the pipeline find faces through here.
"""

from __future__ import annotations

from detection.choice import DEFAULT_DETECTOR, DETECTORS, get_detector
from detection.cnn_detector import CNNFaceDetector
from detection.detectors import Detection, FaceDetector, HaarFaceDetector, box_contains, box_iou

__all__ = [
    "CNNFaceDetector",
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "Detection",
    "FaceDetector",
    "HaarFaceDetector",
    "box_contains",
    "box_iou",
    "get_detector",
]

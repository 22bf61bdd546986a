"""Face detectors chosen by name: ``cnn`` (the project's own network), ``haar`` (OpenCV's cascade) and ``mtcnn``
(the ``mtcnn`` package, when installed)."""

from __future__ import annotations

import inspect
from typing import Any

from detection.cnn_detector import CNNFaceDetector
from detection.detectors import FaceDetector, HaarFaceDetector
from detection.mtcnn_detector import MTCNNFaceDetector
from facexpr.errors import InvalidInputError

DETECTORS: dict[str, type[FaceDetector]] = {
    detector.name: detector for detector in (CNNFaceDetector, HaarFaceDetector, MTCNNFaceDetector)
}
#: The detector the pipeline uses unless told otherwise.
DEFAULT_DETECTOR = "cnn"


def get_detector(name: str = DEFAULT_DETECTOR, **params: Any) -> FaceDetector:
    """A detector by name (one of ``DETECTORS``), built with ``params``."""
    try:
        detector = DETECTORS[name]
    except KeyError:
        raise InvalidInputError(f"unknown face detector {name!r}; choose from {sorted(DETECTORS)}") from None
    unknown = set(params) - set(inspect.signature(detector).parameters)
    if unknown:
        raise InvalidInputError(f"the {name} face detector takes no {', '.join(sorted(unknown))}")
    return detector(**params)

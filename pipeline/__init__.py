"""The pipeline: find faces, read their keypoints and expressions, draw them (``pipeline.annotate``).

The front door, above the stages it composes. Names are imported on first use, so ``facexpr --help`` and the
error types load without Keras.
"""

from __future__ import annotations

from facexpr.errors import DataFormatError, DataNotFoundError, FacexprError, InvalidImageError, InvalidInputError
from facexpr.lazy import lazy_attributes

_LAZY = {
    "annotate": "pipeline.api",
    "Annotator": "pipeline.annotator",
    "AnnotationResult": "pipeline.result",
    "Face": "pipeline.faces",
    "draw": "pipeline.draw",
    "get_detector": "detection.choice",
    "FaceDetector": "detection.detectors",
    "HaarFaceDetector": "detection.detectors",
    "annotate_video": "pipeline.video",
    "annotate_collection": "pipeline.collection",
}

__all__ = [
    "DataFormatError",
    "DataNotFoundError",
    "FacexprError",
    "InvalidImageError",
    "InvalidInputError",
    *_LAZY,
]

__getattr__ = lazy_attributes(__name__, _LAZY)

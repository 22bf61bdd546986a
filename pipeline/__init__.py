"""The pipeline: find faces, read their keypoints and expressions, draw them (``pipeline.annotate``).

Names are imported on first use, so the stages can import the pipeline's shared modules without cycles.
"""

from __future__ import annotations

from pipeline.errors import DataFormatError, DataNotFoundError, FacexprError, InvalidImageError, InvalidInputError
from pipeline.lazy import lazy_attributes

_LAZY = {
    "annotate": "pipeline.api",
    "Annotator": "pipeline.annotator",
    "AnnotationResult": "pipeline.result",
    "Face": "pipeline.faces",
    "draw": "pipeline.draw",
    "get_detector": "pipeline.detect",
    "FaceDetector": "pipeline.detect",
    "HaarFaceDetector": "pipeline.detect",
    "annotate_video": "pipeline.video",
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

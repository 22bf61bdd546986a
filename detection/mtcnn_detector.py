"""The ``mtcnn`` package's detector (``pip install mtcnn``, weights inside its wheel): a peer to measure against, and
the teacher that marks the faces the training photos leave unannotated."""

from __future__ import annotations

from typing import Any

import numpy as np

from detection.detectors import Detection, FaceDetector
from facexpr.errors import InvalidInputError


class MTCNNFaceDetector(FaceDetector):
    """MTCNN (Zhang et al. 2016) through the ``mtcnn`` package; its boxes are squared about their centres."""

    name = "mtcnn"

    def __init__(self, min_confidence: float = 0.9, min_size: int = 20) -> None:
        try:
            from mtcnn import MTCNN
        except ImportError as error:
            raise InvalidInputError("the mtcnn detector needs the mtcnn package: pip install mtcnn") from error
        self._mtcnn = MTCNN()
        self.min_confidence = min_confidence
        self.min_size = min_size

    def params(self) -> dict[str, Any]:
        return {"name": self.name, "min_confidence": self.min_confidence, "min_size": self.min_size}

    def search(self, picture: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        """Faces in a gray (H, W) or RGB (H, W, 3) uint8 picture, largest first."""
        rgb = np.repeat(picture[..., None], 3, axis=2) if picture.ndim == 2 else picture
        found = []
        smallest = max(12, int(min_size))  # MTCNN's pyramid starts at 12-pixel faces
        for face in self._mtcnn.detect_faces(rgb, min_face_size=smallest):
            x, y, w, h = face["box"]
            side = max(w, h)
            if face["confidence"] < self.min_confidence or side < min_size or (max_size and side > max_size):
                continue
            box = (int(round(x + w / 2 - side / 2)), int(round(y + h / 2 - side / 2)), int(side), int(side))
            found.append(Detection(box, float(face["confidence"])))
        return sorted(found, key=lambda d: d.box[2] * d.box[3], reverse=True)

"""The face detector interface, OpenCV's Haar cascade behind it, and box geometry shared by every detector."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import cv2
import numpy as np

from facexpr.crop import Box
from facexpr.errors import InvalidInputError

#: Between two frames a tracked face keeps its size within this ratio either way.
NEAR_SIZE_RATIO = 1.3


@dataclass(frozen=True)
class Detection:
    """One detected face: ``box`` is (x, y, w, h) in image pixels, ``score`` the detector's confidence, ``angle`` the
    turn (degrees, counter-clockwise, as ``cv2.getRotationMatrix2D``) that sets the face upright: 0 unless the
    detector found it in a turned reading."""

    box: tuple[int, int, int, int]
    score: float
    angle: float = 0.0


class FaceDetector(ABC):
    """Finds faces in an image; subclasses register under ``name`` and implement ``search``."""

    name: ClassVar[str]
    min_size: int = 30  # the smallest face side ``detect`` looks for, in image pixels

    @abstractmethod
    def search(self, gray: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        """Faces ``min_size`` to ``max_size`` (None: any) pixels wide in a 2-D uint8 gray image, largest first."""

    def detect(self, gray: np.ndarray) -> list[Detection]:
        """Faces in a 2-D uint8 gray image, largest first."""
        return self.search(gray, self.min_size, None)

    def detect_batch(self, grays: list[np.ndarray]) -> list[list[Detection]]:
        """Faces in each of several gray images."""
        return [self.detect(gray) for gray in grays]

    def detect_near(self, gray: np.ndarray, box: Box, margin: float = 0.5) -> Detection | None:
        """The best face of about ``box``'s size in the region around it (``margin`` box sides each way), or None.

        Video uses this between full detections: a small region at one size costs a fraction of the whole frame.
        """
        x0, y0, region = around(gray, box, margin)
        side = max(box[2], box[3])
        found = self.search(region, side / NEAR_SIZE_RATIO, side * NEAR_SIZE_RATIO)
        return shifted(max(found, key=lambda d: d.score), x0, y0) if found else None

    def params(self) -> dict[str, Any]:
        """The settings that change what this detector finds (saved with data built from it)."""
        return {"name": self.name}


class HaarFaceDetector(FaceDetector):
    """OpenCV's Haar frontal-face cascade (ships with opencv-python < 5).

    Frames larger than ``max_side`` are searched on a downscaled copy and the boxes mapped back;
    overlapping boxes are merged by non-maximum suppression at ``merge_iou``; boxes whose cascade score
    (OpenCV's level weight) is below ``min_score`` are dropped. On 400 YouTube-Faces frames the true faces
    scored 1.95 at their 1st percentile (median 7.3), while false boxes on the sample photo's suit scored -0.2..2.3.
    """

    name = "haar"

    def __init__(
        self,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size: int = 30,
        max_side: int = 640,
        merge_iou: float = 0.3,
        min_score: float = 1.0,
        cascade: str = "haarcascade_frontalface_default.xml",
    ) -> None:
        if scale_factor <= 1.0:
            raise InvalidInputError(f"scale_factor must be > 1, got {scale_factor}")
        if min_neighbors < 0 or min_size < 1 or max_side < 32:
            raise InvalidInputError("min_neighbors >= 0, min_size >= 1 and max_side >= 32 are required")
        path = cv2.data.haarcascades + cascade
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise FileNotFoundError(f"Haar cascade not found or unreadable: {path} (opencv-python < 5 ships it)")
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.max_side = max_side
        self.merge_iou = merge_iou
        self.min_score = min_score
        self.cascade = cascade

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scale_factor": self.scale_factor,
            "min_neighbors": self.min_neighbors,
            "min_size": self.min_size,
            "max_side": self.max_side,
            "merge_iou": self.merge_iou,
            "min_score": self.min_score,
            "cascade": self.cascade,
        }

    def search(self, gray: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise ValueError(f"detect expects a 2-D uint8 gray image, got shape {gray.shape} {gray.dtype}")
        factor = min(1.0, self.max_side / max(gray.shape))
        small = gray if factor == 1.0 else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        smallest = max(1, int(round(min_size * factor)))
        largest = int(round(max_size * factor)) if max_size else 0  # 0: no upper limit
        boxes, _, weights = self._cascade.detectMultiScale3(
            small,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(smallest, smallest),
            maxSize=(largest, largest),
            outputRejectLevels=True,
        )
        if len(boxes) == 0:
            return []
        boxes = np.asarray(boxes, dtype=np.float64) / factor
        scores = np.asarray(weights, dtype=np.float64).reshape(-1)
        ranks = (scores - scores.min() + 1.0).tolist()  # NMSBoxes keeps scores > 0; only the order counts
        keep = cv2.dnn.NMSBoxes(boxes.tolist(), ranks, 0.0, self.merge_iou)
        found = [
            Detection(tuple(int(round(v)) for v in boxes[i]), float(scores[i]))
            for i in np.asarray(keep).reshape(-1)
            if scores[i] >= self.min_score
        ]
        return sorted(found, key=lambda d: d.box[2] * d.box[3], reverse=True)


def around(gray: np.ndarray, box: Box, margin: float) -> tuple[int, int, np.ndarray]:
    """The part of ``gray`` around ``box`` widened by ``margin`` box sides each way, and its top-left corner."""
    x, y, w, h = box
    pad = margin * max(w, h)
    x0, y0 = max(0, int(x - pad)), max(0, int(y - pad))
    x1, y1 = min(gray.shape[1], int(np.ceil(x + w + pad))), min(gray.shape[0], int(np.ceil(y + h + pad)))
    return x0, y0, gray[y0:y1, x0:x1]


def shifted(detection: Detection, dx: int, dy: int) -> Detection:
    """A detection moved by (dx, dy) pixels: from a region's coordinates to the image's."""
    x, y, w, h = detection.box
    return Detection((x + dx, y + dy, w, h), detection.score, detection.angle)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def box_contains(box: Box, point: np.ndarray) -> bool:
    """Whether ``point`` (x, y) lies inside ``box``."""
    x, y, w, h = box
    return bool(x <= point[0] <= x + w and y <= point[1] <= y + h)

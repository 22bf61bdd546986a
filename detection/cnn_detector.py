"""The project's own CNN face detector (``cnn``): the shipped LiteRT network read once over a whole picture, its
face centres decoded to square boxes (``detection.heatmap``)."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detection.detectors import Detection, FaceDetector
from detection.heatmap import decode
from facexpr.errors import InvalidInputError
from facexpr.networks import Network, read_network

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = WEIGHTS_DIR / "detector.keras"
RUNTIME_FILE = MODEL_FILE.with_suffix(".tflite")
CARD_FILE = WEIGHTS_DIR / "detector.card.json"
#: Picture sides the network reads are multiples of this (its coarsest stride); pictures are padded up to it.
SIDE_MULTIPLE = 64
#: The centre probability a face needs when the card names no threshold.
DEFAULT_THRESHOLD = 0.5


def shipped_threshold() -> float:
    """The threshold the shipped card chose on the validation photos, else ``DEFAULT_THRESHOLD``."""
    if CARD_FILE.is_file():
        return float(json.loads(CARD_FILE.read_text()).get("threshold", DEFAULT_THRESHOLD))
    return DEFAULT_THRESHOLD


def padded_picture(gray: np.ndarray) -> np.ndarray:
    """``gray`` with edges replicated down and right to sides that are multiples of ``SIDE_MULTIPLE``."""
    height, width = gray.shape
    bottom, right = -height % SIDE_MULTIPLE, -width % SIDE_MULTIPLE
    if not bottom and not right:
        return gray
    return cv2.copyMakeBorder(gray, 0, bottom, 0, right, cv2.BORDER_REPLICATE)


class CNNFaceDetector(FaceDetector):
    """Faces from the detector network: pictures larger than ``max_side`` are read on a downscaled copy, face centres
    above ``threshold`` (default: the card's) become square boxes, overlapping ones merged at ``merge_iou``."""

    name = "cnn"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        threshold: float | None = None,
        max_side: int = 640,
        merge_iou: float = 0.4,
        min_size: int = 12,
    ) -> None:
        if threshold is not None and not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold must lie in (0, 1), not {threshold}")
        if max_side < SIDE_MULTIPLE or min_size < 1:
            raise InvalidInputError(f"max_side >= {SIDE_MULTIPLE} and min_size >= 1 are required")
        self.path = Path(model_path) if model_path is not None else RUNTIME_FILE
        self.network = _network(self.path)
        self.threshold = shipped_threshold() if threshold is None else threshold
        self.max_side, self.merge_iou, self.min_size = max_side, merge_iou, min_size

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.path.name,
            "threshold": self.threshold,
            "max_side": self.max_side,
            "merge_iou": self.merge_iou,
            "min_size": self.min_size,
        }

    def search(self, gray: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise InvalidInputError(f"detect expects a 2-D uint8 gray image, got shape {gray.shape} {gray.dtype}")
        if min(gray.shape) < 8:
            return []
        factor = min(1.0, self.max_side / max(gray.shape))
        small = gray if factor == 1.0 else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        cells = self.network(padded_picture(small)[None, ..., None].astype(np.float32))[0]
        boxes, scores = decode(cells, self.threshold, self.merge_iou)
        boxes = boxes / factor
        sides = boxes[:, 2]
        keep = (sides >= min_size) & ((sides <= max_size) if max_size else True)
        found = [
            Detection(tuple(int(round(v)) for v in box), float(score))
            for box, score in zip(boxes[keep], scores[keep], strict=True)
        ]
        return sorted(found, key=lambda d: d.box[2] * d.box[3], reverse=True)


@functools.lru_cache(maxsize=4)
def _network(file: Path) -> Network:
    return read_network(
        file,
        "face detector",
        "The shipped detector installs with the package; train your own with `facexpr detect train`.",
    )

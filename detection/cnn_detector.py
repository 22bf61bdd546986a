"""The project's own CNN face detector (``cnn``): the shipped LiteRT network read once over a whole picture (small
pictures enlarged, large ones reduced), its face centres decoded to square boxes (``detection.heatmap``)."""

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
#: Small pictures are read enlarged at most this much: a small, soft video face (50 px in a 100 px frame) reads
#: like the sharper faces of the photos once doubled (validation recall of YouTube frames 0.95 -> 1.00 at
#: threshold 0.5, docs/experiments.md).
MAX_ENLARGE = 2.0
#: The centre probability a face needs when the card names no threshold.
DEFAULT_THRESHOLD = 0.5


def shipped_threshold() -> float:
    """The threshold the shipped card chose on the validation photos, else ``DEFAULT_THRESHOLD``."""
    if CARD_FILE.is_file():
        return float(json.loads(CARD_FILE.read_text()).get("threshold", DEFAULT_THRESHOLD))
    return DEFAULT_THRESHOLD


def padded_picture(gray: np.ndarray) -> np.ndarray:
    """``gray`` padded down and right with its own mean grey to sides that are multiples of ``SIDE_MULTIPLE`` (a flat
    grey margin, as around the training pictures' faces; replicated edges would draw streaks it never saw)."""
    height, width = gray.shape
    bottom, right = -height % SIDE_MULTIPLE, -width % SIDE_MULTIPLE
    if not bottom and not right:
        return gray
    return cv2.copyMakeBorder(gray, 0, bottom, 0, right, cv2.BORDER_CONSTANT, value=int(gray.mean()))


def reading_scale(shape: tuple[int, ...], min_side: int, max_side: int) -> float:
    """The zoom a picture is read at: its longer side brought within [``min_side``, ``max_side``], enlarging at
    most ``MAX_ENLARGE`` times."""
    longest = max(shape[:2])
    if longest > max_side:
        return max_side / longest
    return min(MAX_ENLARGE, max(1.0, min_side / longest))


class CNNFaceDetector(FaceDetector):
    """Faces from the detector network: each picture is read at ``reading_scale`` (its longer side ``min_side`` to
    ``max_side``); face centres above ``threshold`` (default: the card's) become square boxes, overlapping ones
    merged at ``merge_iou``."""

    name = "cnn"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        threshold: float | None = None,
        max_side: int = 640,
        min_side: int = 480,
        merge_iou: float = 0.4,
        min_size: int = 12,
    ) -> None:
        if threshold is not None and not 0.0 < threshold < 1.0:
            raise InvalidInputError(f"threshold must lie in (0, 1), not {threshold}")
        if not SIDE_MULTIPLE <= min_side <= max_side or min_size < 1:
            raise InvalidInputError(f"{SIDE_MULTIPLE} <= min_side <= max_side and min_size >= 1 are required")
        self.path = Path(model_path) if model_path is not None else RUNTIME_FILE
        self.network = _network(self.path)
        self.threshold = shipped_threshold() if threshold is None else threshold
        self.min_side, self.max_side, self.merge_iou, self.min_size = min_side, max_side, merge_iou, min_size

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.path.name,
            "threshold": self.threshold,
            "min_side": self.min_side,
            "max_side": self.max_side,
            "merge_iou": self.merge_iou,
            "min_size": self.min_size,
        }

    def search(self, gray: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise InvalidInputError(f"detect expects a 2-D uint8 gray image, got shape {gray.shape} {gray.dtype}")
        if min(gray.shape) < 8:
            return []
        factor = reading_scale(gray.shape, self.min_side, self.max_side)
        if factor == 1.0:
            picture = gray
        else:
            method = cv2.INTER_AREA if factor < 1.0 else cv2.INTER_LINEAR
            picture = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=method)
        padded = padded_picture(picture)
        cells = self.network(padded[None, ..., None].astype(np.float32))[0]
        boxes, scores = decode(cells, self.threshold, self.merge_iou, stride=padded.shape[0] // cells.shape[0])
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

"""The project's own CNN face detector (``cnn``): the shipped LiteRT network read over a whole picture (small
pictures enlarged, large ones reduced), again at half that size for faces too large for it and, turned both ways,
for tilted heads, then its small-face candidates re-read enlarged; face centres decoded to square boxes
(``detection.heatmap``)."""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np

from detection.detectors import Detection, FaceDetector
from detection.heatmap import decode, drop_parts, merge_boxes
from facexpr.affine import moved_back
from facexpr.errors import InvalidInputError
from facexpr.networks import Network, read_network

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = WEIGHTS_DIR / "detector.keras"
RUNTIME_FILE = MODEL_FILE.with_suffix(".tflite")
CARD_FILE = WEIGHTS_DIR / "detector.card.json"
#: Picture sides the network reads are multiples of this (its coarsest stride); pictures are padded up to it.
SIDE_MULTIPLE = 64
#: Larger pictures are read reduced to this longer side. A larger one finds the small faces of a large picture (a
#: phone's group photo, an HD frame) at more false alarms on large textures: validation photos tiled into 2048x1536
#: pictures 0.77 / 0.83 / 0.85 of their faces found at 640 / 960 / 1280, faceless pictures enlarged 1-3 times 1 / 8
#: / 13 boxes on 88 (docs/experiments.md).
MAX_SIDE = 640
#: Small pictures are read enlarged at most this much: a small, soft video face (50 px in a 100 px frame) reads
#: like the sharper faces of the photos once doubled (validation recall of YouTube frames 0.95 -> 1.00 at
#: threshold 0.5, docs/experiments.md).
MAX_ENLARGE = 2.0
#: The second reading's zoom over the first (for pictures the first reading does not enlarge), and the faces it
#: keeps: those under ``SMALL_FACE`` pixels at the first reading's scale. Stride-8 cells miss faces of 20-35 px (AFW
#: group photos); read twice as large they are found (validation AFW faces 16 -> 22 of 26, docs/experiments.md).
SMALL_ZOOM = 2.0
SMALL_FACE = 64
#: The first reading's centres above this probability are small-face candidates; each is re-read in a patch this wide
#: (at the first reading's scale), at most this many. Chosen on the validation photos: the AFW faces a second reading
#: of the whole picture finds (22 of 26) at a third of its time (5.3 ms per 640x480 frame; docs/experiments.md).
CANDIDATE_THRESHOLD = 0.2
PATCH_SIDE = 64
MAX_CANDIDATES = 32
#: Patches are read in batches of a multiple of this many (blank ones added): 8 batch shapes at most.
PATCH_BATCH = 4
#: The whole picture is read a second time this much smaller for faces of at least ``LARGE_FACE`` pixels (at the
#: first reading's scale): the network learnt faces up to 300 px in 320 px pictures, and a close-up face that fills
#: a photo or a webcam frame scores below the threshold (validation wild faces found 93 -> 97 of 101, no more false
#: alarms, at a quarter of the first reading's compute; docs/experiments.md). A reading longer than ``LARGE_STOP``
#: pixels is followed by another this much smaller again (faces of ``LARGE_FACE`` pixels at the scale before it), so
#: a large picture's close-up is also read whole at 320 px or less.
LARGE_ZOOM = 0.5
LARGE_FACE = 240
LARGE_STOP = 320
#: The picture is also read turned by +- ``TURN_DEGREES`` at ``TURN_ZOOM`` times the first reading's scale (both in
#: one call): the network learnt faces turned up to 12 degrees, and a head tilted 30-45 degrees (a selfie, a group
#: photo) scores low upright. Validation pictures turned +30 / -30 / +45 / -45: 0.65 / 0.85 / 0.24 / 0.43 of their
#: faces found -> 0.87 / 0.91 / 0.64 / 0.79, upright unchanged (docs/experiments.md, "Turned readings").
TURN_DEGREES = 30.0
TURN_ZOOM = 0.5
#: The centre probability a face needs when the card names no threshold.
DEFAULT_THRESHOLD = 0.5


def shipped_thresholds() -> tuple[float, float, float]:
    """The thresholds of the first, the small-face and the turned readings that the shipped card chose on the
    validation photos, else ``DEFAULT_THRESHOLD`` (a card without the others uses its first one for them)."""
    card = json.loads(CARD_FILE.read_text()) if CARD_FILE.is_file() else {}
    threshold = float(card.get("threshold", DEFAULT_THRESHOLD))
    return threshold, float(card.get("small_threshold", threshold)), float(card.get("turn_threshold", threshold))


Boxes = tuple[np.ndarray, np.ndarray]  # square boxes (N, 4: x, y, side, side) in the picture's pixels, scores (N,)


class Readings(NamedTuple):
    """The faces of one picture's readings, unmerged, in its pixels: the whole picture (and its large-face
    readings), the small-face patches, and the picture turned both ways (with the turn that found each face)."""

    first: Boxes
    small: Boxes
    turned: Boxes
    turned_angles: np.ndarray  # (N,) degrees, one per turned face


NO_BOXES: Boxes = (np.zeros((0, 4)), np.zeros(0))


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
    ``max_side``) and, unless ``large_zoom`` is None, again ``large_zoom`` times that size for large faces; unless
    ``small_zoom`` is None, its candidates under ``small_face`` pixels are re-read in ``patch_side`` patches
    ``small_zoom`` times larger; unless ``turn_degrees`` is None, it is read again turned by +- that much
    (``readings``); face centres above ``threshold`` (above ``small_threshold`` in the small-face reading,
    ``turn_threshold`` in the turned ones; all default to the card's) become square boxes, overlapping ones merged at
    ``merge_iou``."""

    name = "cnn"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        threshold: float | None = None,
        max_side: int = MAX_SIDE,
        min_side: int = 480,
        merge_iou: float = 0.4,
        min_size: int = 12,
        small_zoom: float | None = SMALL_ZOOM,
        small_threshold: float | None = None,
        large_zoom: float | None = LARGE_ZOOM,
        small_face: int = SMALL_FACE,
        patch_side: int = PATCH_SIDE,
        turn_degrees: float | None = TURN_DEGREES,
        turn_threshold: float | None = None,
    ) -> None:
        for value in (threshold, small_threshold, turn_threshold):
            if value is not None and not 0.0 < value < 1.0:
                raise InvalidInputError(f"thresholds must lie in (0, 1), not {value}")
        if max_side < SIDE_MULTIPLE or min_side < SIDE_MULTIPLE or min_size < 1:
            raise InvalidInputError(
                f"max_side and min_side must be at least {SIDE_MULTIPLE} px and min_size at least 1, not {max_side}, "
                f"{min_side} and {min_size}"
            )
        min_side = min(min_side, max_side)  # a small max_side reads every picture at most that large
        if small_zoom is not None and small_zoom <= 1.0:
            raise InvalidInputError(f"small_zoom must be above 1 (or None), not {small_zoom}")
        if large_zoom is not None and not 0.0 < large_zoom < 1.0:
            raise InvalidInputError(f"large_zoom must lie in (0, 1) (or be None), not {large_zoom}")
        if small_face < 1 or patch_side < 8:
            raise InvalidInputError(f"small_face >= 1 and patch_side >= 8 are required, not {small_face}, {patch_side}")
        self.path = Path(model_path) if model_path is not None else RUNTIME_FILE
        self.network = _network(self.path)
        if turn_degrees is not None and not 0.0 < turn_degrees < 90.0:
            raise InvalidInputError(f"turn_degrees must lie in (0, 90) (or be None), not {turn_degrees}")
        shipped, shipped_small, shipped_turn = shipped_thresholds()
        self.threshold = shipped if threshold is None else threshold
        if small_threshold is None:  # a threshold given alone serves every reading
            small_threshold = shipped_small if threshold is None else threshold
        if turn_threshold is None:
            turn_threshold = shipped_turn if threshold is None else threshold
        self.small_threshold, self.turn_threshold = small_threshold, turn_threshold
        self.turn_degrees = turn_degrees
        self.min_side, self.max_side, self.merge_iou, self.min_size = min_side, max_side, merge_iou, min_size
        self.small_zoom, self.large_zoom = small_zoom, large_zoom
        self.small_face, self.patch_side = small_face, patch_side

    def params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "model": self.path.name,
            "threshold": self.threshold,
            "min_side": self.min_side,
            "max_side": self.max_side,
            "merge_iou": self.merge_iou,
            "min_size": self.min_size,
            "small_zoom": self.small_zoom,
            "small_threshold": self.small_threshold,
            "small_face": self.small_face,
            "small_reading": "patches around candidates, in pictures the first reading does not enlarge",  # cache keys
            "candidate_threshold": CANDIDATE_THRESHOLD,
            "patch_side": self.patch_side,
            "max_enlarge": MAX_ENLARGE,
            "large_zoom": self.large_zoom,
            "large_face": LARGE_FACE,
            "large_stop": LARGE_STOP,
            "turn_degrees": self.turn_degrees,
            "turn_zoom": TURN_ZOOM,
            "turn_threshold": self.turn_threshold,
        }

    def search(self, gray: np.ndarray, min_size: float, max_size: float | None) -> list[Detection]:
        if gray.ndim != 2 or gray.dtype != np.uint8:
            raise InvalidInputError(f"detect expects a 2-D uint8 gray image, got shape {gray.shape} {gray.dtype}")
        if min(gray.shape) < 8:
            return []
        read = self.readings(gray)
        boxes, scores = merged_readings(read.first, read.small, read.turned, merge_iou=self.merge_iou)
        angles = turns_of(boxes, read.turned[0], read.turned_angles)
        sides = boxes[:, 2]
        keep = (sides >= min_size) & ((sides <= max_size) if max_size else True)
        found = as_detections(boxes[keep], scores[keep], angles[keep])
        return sorted(found, key=lambda d: d.box[2] * d.box[3], reverse=True)

    def readings(self, gray: np.ndarray) -> Readings:
        """The faces of the whole-picture readings (above ``threshold``), of the small-face reading (above
        ``small_threshold``) and of the turned readings (above ``turn_threshold``), unmerged, in ``gray``'s pixels.

        The whole picture is read at ``reading_scale`` and, for faces of at least ``LARGE_FACE`` pixels there, at
        ``large_zoom`` times that scale (both readings' faces merged). The small-face reading re-reads,
        ``small_zoom`` times enlarged, a ``patch_side`` square around each of the first reading's small candidates
        (under ``small_face`` pixels, above ``CANDIDATE_THRESHOLD``; at most ``MAX_CANDIDATES``), all patches in one
        call. There is none without ``small_zoom``, nor for pictures the first reading enlarges (under
        ``min_side``: small video frames, whose faces fill them). The turned readings read the picture at
        ``TURN_ZOOM`` times the first reading's scale, turned by +- ``turn_degrees`` (none without them).
        """
        factor = reading_scale(gray.shape, self.min_side, self.max_side)
        picture = gray if factor == 1.0 else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=_method(factor))
        zoom = self.small_zoom if factor <= 1.0 else None
        boxes, scores = self._decode(padded_picture(picture), self.threshold if zoom is None else CANDIDATE_THRESHOLD)
        passed = scores >= self.threshold
        first = self._with_large_faces(picture, (boxes[passed], scores[passed]))
        turned_boxes, turned_scores, angles = self._turned_faces(picture)
        first, turned = (first[0] / factor, first[1]), (turned_boxes / factor, turned_scores)
        if zoom is None:
            return Readings(first, NO_BOXES, turned, angles)
        candidates = boxes[boxes[:, 2] < self.small_face][:MAX_CANDIDATES]  # decode gives them highest score first
        small_boxes, small_scores = self._read_patches(gray, factor, candidates, zoom, int(picture.mean()))
        return Readings(first, (small_boxes / factor, small_scores), turned, angles)

    def _turned_faces(self, picture: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The faces (in ``picture``'s pixels) found in ``picture`` read ``TURN_ZOOM`` times as large and turned by
        +- ``turn_degrees`` about its centre (the corners that leave it are not read: the upright readings cover
        them), both turns in one call: boxes (upright squares about the faces' centres turned back), scores, and
        the turn that found each."""
        if self.turn_degrees is None or min(picture.shape) * TURN_ZOOM < SIDE_MULTIPLE / 2:
            return *NO_BOXES, np.zeros(0)
        reading = cv2.resize(picture, None, fx=TURN_ZOOM, fy=TURN_ZOOM, interpolation=cv2.INTER_AREA)
        height, width = reading.shape
        centre = (width / 2.0, height / 2.0)
        turns = [cv2.getRotationMatrix2D(centre, degrees, 1.0) for degrees in (self.turn_degrees, -self.turn_degrees)]
        fill = int(reading.mean())
        canvases = [
            padded_picture(
                cv2.warpAffine(reading, turn, (width, height), borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
            )
            for turn in turns
        ]
        cells = self.network(np.stack(canvases)[..., None].astype(np.float32))
        stride = canvases[0].shape[0] // cells.shape[1]
        found, found_scores, angles = [], [], []
        for degrees, turn, turn_cells in zip((self.turn_degrees, -self.turn_degrees), turns, cells, strict=True):
            boxes, scores = decode(turn_cells, self.turn_threshold, self.merge_iou, stride=stride)
            centres = moved_back(turn, boxes[:, :2] + boxes[:, 2:] / 2.0)
            sides = boxes[:, 2:3]
            found.append(np.hstack([centres - sides / 2.0, sides, sides]) / TURN_ZOOM)
            found_scores.append(scores)
            angles.append(np.full(len(scores), degrees))
        return np.vstack(found), np.concatenate(found_scores), np.concatenate(angles)

    def _with_large_faces(self, picture: np.ndarray, first: Boxes) -> Boxes:
        """``first`` (faces in ``picture``'s pixels) and the faces of at least ``LARGE_FACE`` pixels (at the scale
        before) that the picture read ``large_zoom``, ``large_zoom ** 2``, ... times as large finds, overlapping ones
        merged; after the first of them, until a reading is ``LARGE_STOP`` pixels long or shorter."""
        found, zoom, reading = first, 1.0, picture
        while self.large_zoom is not None and max(reading.shape) * self.large_zoom >= SIDE_MULTIPLE:
            reading = cv2.resize(reading, None, fx=self.large_zoom, fy=self.large_zoom, interpolation=cv2.INTER_AREA)
            zoom *= self.large_zoom
            boxes, scores = self._decode(padded_picture(reading), self.threshold)
            large = boxes[:, 2] / self.large_zoom >= LARGE_FACE
            found = merged_readings(found, (boxes[large] / zoom, scores[large]), merge_iou=self.merge_iou)
            if max(reading.shape) <= LARGE_STOP:
                break
        return found

    def _read_patches(self, gray: np.ndarray, factor: float, candidates: np.ndarray, zoom: float, fill: int) -> Boxes:
        """Small faces found in ``zoom``-times enlarged patches around ``candidates`` (in the first reading's pixels,
        ``factor`` times ``gray``'s; ``fill`` grey beyond the picture): per patch, those under ``small_face`` pixels
        whose centres lie in its middle half. The patches are cut from ``gray`` itself, so a large picture's small
        faces keep the detail the first reading's reduction lost."""
        if not len(candidates):
            return np.zeros((0, 4)), np.zeros(0)
        half = self.patch_side // 2
        reading_shape = np.array([round(gray.shape[1] * factor), round(gray.shape[0] * factor)])
        corners = np.round(candidates[:, :2] + candidates[:, 2:] / 2.0 - half).astype(int)
        corners = np.clip(corners, -half, reading_shape - half)
        side = int(round(self.patch_side * zoom))
        patches = np.stack(
            [square_patch(gray, corner / factor, self.patch_side / factor, side, fill) for corner in corners]
        )
        bucket = -(-len(patches) // PATCH_BATCH) * PATCH_BATCH  # batch sizes in steps: few shapes to allocate for
        padded = np.concatenate([patches, np.zeros((bucket - len(patches), side, side), patches.dtype)])
        cells = self.network(padded[..., None].astype(np.float32))[: len(patches)]
        stride = side // cells.shape[1]
        found, found_scores = [], []
        for (x, y), patch_cells in zip(corners, cells, strict=True):
            boxes, scores = decode(patch_cells, self.small_threshold, self.merge_iou, stride=stride)
            boxes = boxes / zoom
            centres = boxes[:, :2] + boxes[:, 2:] / 2.0
            inside = np.all(np.abs(centres - half) <= half / 2.0, axis=1) & (boxes[:, 2] < self.small_face)
            found.append(boxes[inside] + [x, y, 0, 0])
            found_scores.append(scores[inside])
        return np.vstack(found), np.concatenate(found_scores)

    def _decode(self, padded: np.ndarray, threshold: float) -> Boxes:
        """Boxes and scores of one padded picture (in its pixels)."""
        cells = self.network(padded[None, ..., None].astype(np.float32))[0]
        return decode(cells, threshold, self.merge_iou, stride=padded.shape[0] // cells.shape[0])


def square_patch(gray: np.ndarray, corner: np.ndarray, size: float, side: int, fill: int) -> np.ndarray:
    """The ``size``-pixel square of ``gray`` from ``corner`` (x, y; rounded to whole pixels), ``fill`` grey where it
    leaves the picture, resized to ``side`` x ``side``."""
    x, y = (int(round(v)) for v in corner)
    size = int(round(size))
    height, width = gray.shape
    top, left = max(0, -y), max(0, -x)
    bottom, right = max(0, y + size - height), max(0, x + size - width)
    inner = gray[max(0, y) : min(height, y + size), max(0, x) : min(width, x + size)]
    square = cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_CONSTANT, value=fill)
    return cv2.resize(square, (side, side), interpolation=_method(side / size))


def _method(factor: float) -> int:
    """Area averaging to reduce, bilinear to enlarge."""
    return cv2.INTER_AREA if factor < 1.0 else cv2.INTER_LINEAR


def turns_of(boxes: np.ndarray, turned: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Per box, the turn of the turned reading it is (the merge keeps boxes as they were read), else 0."""
    same = np.all(boxes[:, None, :] == turned[None, :, :], axis=2)  # (boxes, turned faces)
    return np.where(same.any(axis=1), angles[same.argmax(axis=1)] if len(angles) else 0.0, 0.0)


def as_detections(boxes: np.ndarray, scores: np.ndarray, angles: np.ndarray | None = None) -> list[Detection]:
    """Boxes, scores (and the turns that set the faces upright, else 0) as ``Detection``s (whole-pixel boxes)."""
    angles = np.zeros(len(scores)) if angles is None else angles
    return [
        Detection(tuple(int(round(v)) for v in box), float(score), float(angle))
        for box, score, angle in zip(boxes, scores, angles, strict=True)
    ]


def merged_readings(*readings: Boxes, merge_iou: float) -> Boxes:
    """The readings' faces, overlapping ones merged (the higher score stays), parts of larger faces dropped."""
    boxes, scores = np.vstack([r[0] for r in readings]), np.concatenate([r[1] for r in readings])
    return drop_parts(*merge_boxes(boxes, scores, merge_iou))


@functools.lru_cache(maxsize=4)
def _network(file: Path) -> Network:
    return read_network(
        file,
        "face detector",
        "The shipped detector installs with the package; train your own with `facexpr detect train`.",
    )

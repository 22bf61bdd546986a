"""The detector's cell grid: faces (square boxes) to training targets, and network outputs back to boxes.

Each cell of a picture (``stride`` pixels square: 8, or 4 for a network that keeps small faces) holds a face-centre
logit, the face centre's offset from the cell (x, y, in cells) and log(side / stride). Every cell within
``CENTRE_SHARE`` of a face's side from its centre (at least its nearest cell) is a positive for it and regresses that
face's centre and size; around them the face is drawn as a Gaussian that softens the penalty on near misses.
Cells inside ``ignore`` boxes (faces nobody annotated, or cut off at the border) carry no centre loss.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The cell side of the first shipped detector; a network's own stride is its input side over its output side.
STRIDE = 8
#: Output channels: centre logit, offset x, offset y, log side.
CHANNELS = 4
#: The centre logit's starting bias: every cell begins at a 1% face probability.
PRIOR_LOGIT = -4.6
#: Target channels: centre (-1 where ignored), offset x, offset y, log side, and 1 at each face's own cell.
TARGET_CHANNELS = 5
#: Gaussian spread of a face's centre peak, in cells: this share of its side, at least ``MIN_SPREAD``.
SPREAD = 0.1
MIN_SPREAD = 0.6
#: Cells whose centres lie within this share of a face's side from its centre are its positives.
CENTRE_SHARE = 0.12


def cell_coordinate(pixel: np.ndarray, stride: int = STRIDE) -> np.ndarray:
    """Picture pixels (pixel-centre convention) to continuous cell coordinates."""
    return (np.asarray(pixel, np.float64) + 0.5) / stride - 0.5


def pixel_coordinate(cell: np.ndarray, stride: int = STRIDE) -> np.ndarray:
    """Continuous cell coordinates to picture pixels."""
    return (np.asarray(cell, np.float64) + 0.5) * stride - 0.5


def encode(boxes: np.ndarray, ignore: np.ndarray, height: int, width: int, stride: int = STRIDE) -> np.ndarray:
    """(height/stride, width/stride, 5) targets for square ``boxes`` (N, 4: x, y, side, side) whose centres lie in the
    picture, and ``ignore`` boxes (M, 4)."""
    rows, cols = height // stride, width // stride
    target = np.zeros((rows, cols, TARGET_CHANNELS), np.float32)
    ys, xs = np.mgrid[0:rows, 0:cols]
    pixel_x, pixel_y = pixel_coordinate(xs, stride), pixel_coordinate(ys, stride)
    for x, y, w, h in np.asarray(ignore, np.float64).reshape(-1, 4):
        inside = (pixel_x >= x) & (pixel_x <= x + w) & (pixel_y >= y) & (pixel_y <= y + h)
        target[..., 0][inside] = -1.0
    distance_to_owner = np.full((rows, cols), np.inf)
    for x, y, w, h in sorted(np.asarray(boxes, np.float64).reshape(-1, 4).tolist(), key=lambda b: -max(b[2], b[3])):
        side = max(w, h)
        u, v = cell_coordinate(x + w / 2.0, stride), cell_coordinate(y + h / 2.0, stride)
        col, row = int(round(u)), int(round(v))
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        spread = max(MIN_SPREAD, SPREAD * side / stride)
        distance = np.hypot(xs - u, ys - v)
        peak = np.exp(-((xs - col) ** 2 + (ys - row) ** 2) / (2.0 * spread**2))
        centre = target[..., 0]
        target[..., 0] = np.where(centre < 0, np.where(peak > 0.05, peak, centre), np.maximum(centre, peak))
        positive = distance <= CENTRE_SHARE * side / stride
        positive[row, col] = True
        positive &= distance < distance_to_owner  # smaller faces (drawn later) take the cells they share
        distance_to_owner = np.where(positive, distance, distance_to_owner)
        target[positive] = np.stack(
            [
                np.ones(positive.sum()),
                u - xs[positive],
                v - ys[positive],
                np.full(positive.sum(), np.log(side / stride)),
                np.ones(positive.sum()),
            ],
            axis=1,
        )
    return target


def decode(
    cells: np.ndarray, threshold: float, merge_iou: float = 0.4, stride: int = STRIDE
) -> tuple[np.ndarray, np.ndarray]:
    """Square boxes (N, 4: x, y, side, side, picture pixels) and scores (N,) from one picture's (rows, cols, 4)
    outputs: local maxima of the centre probability above ``threshold``, overlapping boxes merged by NMS."""
    probability = 1.0 / (1.0 + np.exp(-cells[..., 0].astype(np.float32)))
    peaks = (probability >= threshold) & (probability >= cv2.dilate(probability, np.ones((3, 3), np.uint8)))
    rows, cols = np.nonzero(peaks)
    if not len(rows):
        return np.zeros((0, 4)), np.zeros(0)
    found = cells[rows, cols].astype(np.float64)
    cx, cy = pixel_coordinate(cols + found[:, 1], stride), pixel_coordinate(rows + found[:, 2], stride)
    side = stride * np.exp(np.clip(found[:, 3], -3.0, 8.0))
    boxes = np.stack([cx - side / 2.0, cy - side / 2.0, side, side], axis=1)
    return merge_boxes(boxes, probability[rows, cols].astype(np.float64), merge_iou)


def merge_boxes(boxes: np.ndarray, scores: np.ndarray, merge_iou: float) -> tuple[np.ndarray, np.ndarray]:
    """Non-maximum suppression: of boxes overlapping by more than ``merge_iou``, the highest-scoring one stays."""
    keep = np.asarray(cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), 0.0, merge_iou), dtype=int).reshape(-1)
    return boxes[keep], scores[keep]


#: A face is a part of another (an eye, a mouth, half a close-up face) when at least ``PART_SHARE`` of its area lies
#: inside a face at least ``PART_RATIO`` times as wide that scores higher: faces in a photo do not hold each other.
#: (As in non-maximum suppression, only a higher score drops a face, so a threshold applied after it keeps the same
#: faces as one applied before.)
PART_SHARE = 0.6
PART_RATIO = 1.5


def drop_parts(boxes: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``boxes`` (N, 4: x, y, side, side) and ``scores`` without the faces that are parts of larger, higher-scoring
    ones."""
    if len(boxes) < 2:
        return boxes, scores
    x0, y0, side = boxes[:, 0], boxes[:, 1], boxes[:, 2]
    width = np.clip(np.minimum(x0 + side, (x0 + side)[:, None]) - np.maximum(x0, x0[:, None]), 0, None)
    height = np.clip(np.minimum(y0 + side, (y0 + side)[:, None]) - np.maximum(y0, y0[:, None]), 0, None)
    inside = width * height / (side * side)  # [i, j]: the share of face j inside face i
    holds = (inside >= PART_SHARE) & (side[:, None] >= PART_RATIO * side) & (scores[:, None] > scores)
    keep = ~holds.any(axis=0)
    return boxes[keep], scores[keep]

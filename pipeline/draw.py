"""Drawing only: boxes, keypoint dots and expression labels on a BGR picture."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from expressions.reading import NO_LABEL
from pipeline.faces import Face

BOX_COLOR = (80, 200, 60)  # BGR
POINT_COLOR = (40, 40, 255)
TEXT_COLOR = (255, 255, 255)


def draw(image: np.ndarray, faces: Sequence[Face], labels: bool = True) -> np.ndarray:
    """A copy of a BGR ``image`` with each face's box, keypoints and 'label confidence%' (or, for a face that shows
    none of the preset's classes, 'neutral / other') drawn on it."""
    out = image.copy()
    for face in faces:
        x, y, w, h = face.box
        thickness = max(1, round(w / 80))
        cv2.rectangle(out, (x, y), (x + w, y + h), BOX_COLOR, thickness, cv2.LINE_AA)
        radius = max(1, round(w / 60))
        for px, py in face.keypoints:
            cv2.circle(out, (int(round(px)), int(round(py))), radius, POINT_COLOR, -1, cv2.LINE_AA)
        if labels:
            _label(out, f"{face.label} {face.confidence:.0%}" if face.label else NO_LABEL, x, y, w)
    return out


def _label(image: np.ndarray, text: str, x: int, y: int, width: int) -> None:
    largest = max(1.5, max(image.shape[:2]) / 1000)  # a large face in a phone photo gets a label one can read
    scale = float(np.clip(width / 160, 0.4, largest))
    thickness = max(1, round(scale * 1.5))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    top = y - th - base - 4 if y - th - base - 4 >= 0 else y  # above the box, or inside it at the top edge
    cv2.rectangle(image, (x, top), (x + tw + 6, top + th + base + 4), BOX_COLOR, -1)
    cv2.putText(image, text, (x + 3, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, scale, TEXT_COLOR, thickness, cv2.LINE_AA)

"""Backlit pictures for ``facexpr detect evaluate``: every annotated face under a soft-edged shadow (a face against a
bright window), which the annotated pictures, evenly lit, do not show."""

from __future__ import annotations

import cv2
import numpy as np

from detection.datasets import AnnotatedImage

#: How bright each face is left (its shadow's share of the light) in the evaluation's backlit pictures.
FACTORS = (0.3, 0.2)


def backlit_picture(image: AnnotatedImage, factor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gray picture with each face ``factor`` times as bright under an ellipse 1.5 x 1.8 times its landmark box
    (edge blurred by 0.15 of the median face side), with the faces' landmark boxes (N, 4) and centres (N, 2)."""
    gray, boxes = image.read(), image.boxes
    mask = np.zeros(gray.shape, np.float32)
    for x, y, w, h in boxes:
        centre = (int(x + w / 2.0), int(y + h / 2.0))
        cv2.ellipse(mask, centre, (int(w * 0.75), int(h * 0.9)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(4.0, float(np.median(boxes[:, 2])) * 0.15))
    shaded = np.clip(np.rint(gray * (1.0 - (1.0 - factor) * mask)), 0, 255).astype(np.uint8)
    return shaded, boxes, image.centres

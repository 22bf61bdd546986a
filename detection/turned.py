"""Pictures turned in their plane for ``facexpr detect evaluate``: a head tilted in a selfie or a group photo, which
the annotated pictures, all upright, do not show."""

from __future__ import annotations

import cv2
import numpy as np

from detection.datasets import AnnotatedImage, landmark_box
from facexpr.affine import moved_points

#: Turns (degrees, counter-clockwise) the evaluation reads each picture at.
ANGLES = (30, -30, 45, -45)


def turned_picture(image: AnnotatedImage, degrees: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gray picture turned by ``degrees`` about its centre (edges replicated), with the landmark boxes (N, 4) and
    landmark centres (N, 2) of the faces whose turned 68 points all stay inside it."""
    gray = image.read()
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), degrees, 1.0)
    turned = cv2.warpAffine(gray, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    points = moved_points(matrix, image.landmarks)
    inside = ((points >= 0) & (points < [width, height])).all(axis=(1, 2))
    kept = points[inside]
    boxes = np.array([landmark_box(face) for face in kept], dtype=np.float64).reshape(-1, 4)
    return turned, boxes, kept.mean(axis=1).reshape(-1, 2)

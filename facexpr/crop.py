"""The one rule that turns a detector box into a model's face crop, used by training and inference alike.

Rule: take the square of side ``scale * max(w, h)`` centred on the box centre (moved down by
``y_shift * side``), round it to whole pixels, pad with replicated edges where it leaves the image, and
resize it to ``size x size`` gray pixels. Coordinates map with the pixel-centre convention, so a point
at image pixel ``p`` lands at ``(p - origin + 0.5) * size / side - 0.5`` in the crop.

For the keypoints model the scale is 1.0: on the YouTube-Faces frames the Haar box side is about
2.8 eye distances, so the eyes sit ~35 px apart at 96x96, the face scale of the Kaggle data (~36 px),
and pixel RMSEs stay comparable with Kaggle's.

For the expression model the scale is 1.0 too: run on FER2013 faces (upscaled 4x inside a padded canvas), the
Haar box is centred on the 48x48 frame (median offset 0.00 of the box) and the frame is 1.02 box sides wide
(quartiles 0.96-1.09; 468 of 600 training faces detected), so a Haar box squared is FER2013's framing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facexpr.affine import moved_back, moved_points

Box = tuple[float, float, float, float]  # x, y, w, h in image pixels


@dataclass(frozen=True)
class CropTransform:
    """Maps points between image pixels and crop pixels (pixel-centre convention)."""

    x0: int
    y0: int
    side: int
    size: int

    @property
    def factor(self) -> float:
        """Crop pixels per image pixel."""
        return self.size / self.side

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Image coordinates (..., 2) to crop coordinates."""
        origin = np.array([self.x0, self.y0], dtype=np.float64)
        return ((np.asarray(points, np.float64) - origin + 0.5) * self.factor - 0.5).astype(np.float32)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Crop coordinates (..., 2) to image coordinates."""
        origin = np.array([self.x0, self.y0], dtype=np.float64)
        return ((np.asarray(points, np.float64) + 0.5) / self.factor + origin - 0.5).astype(np.float32)


@dataclass(frozen=True)
class TurnedCropTransform:
    """Maps points between image pixels and the pixels of a crop cut from the picture turned about the crop's centre
    (a tilted face set upright): ``turn`` (2x3) takes image points to the turned picture's, ``square`` those to the
    crop's."""

    square: CropTransform
    turn: np.ndarray

    def to_crop(self, points: np.ndarray) -> np.ndarray:
        """Image coordinates (..., 2) to crop coordinates."""
        return self.square.to_crop(moved_points(self.turn, points))

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Crop coordinates (..., 2) to image coordinates."""
        return moved_back(self.turn, self.square.to_image(points)).astype(np.float32)


@dataclass(frozen=True)
class CropRule:
    """Detector box to square face crop: ``scale`` times the box side, ``size`` pixels out."""

    scale: float
    size: int
    y_shift: float = 0.0

    def transform(self, box: Box, context: float = 1.0) -> CropTransform:
        """The pixel mapping of this rule's crop for ``box``; ``context`` > 1 widens it around the same centre."""
        x, y, w, h = (float(v) for v in box)
        box_side = max(w, h)
        side = max(1, int(round(self.scale * box_side * context)))
        cx = x + w / 2.0
        cy = y + h / 2.0 + self.y_shift * self.scale * box_side
        x0 = int(round(cx - side / 2.0))
        y0 = int(round(cy - side / 2.0))
        return CropTransform(x0, y0, side, int(round(self.size * context)))

    def crop(
        self, gray: np.ndarray, box: Box, context: float = 1.0, angle: float = 0.0
    ) -> tuple[np.ndarray, CropTransform | TurnedCropTransform]:
        """The ``size x size`` (times ``context``) uint8 crop of a 2-D gray image and its transform; with ``angle``
        (degrees, counter-clockwise as ``cv2.getRotationMatrix2D``), cut from the picture turned that much about the
        crop's centre: the region around it is turned at full resolution, then cut and resized as usual."""
        t = self.transform(box, context)
        if not angle:
            return cut_and_resize(gray, t), t
        reach = int(np.ceil(t.side / np.sqrt(2.0))) + 1  # half the side of a square that holds the crop turned
        centre = (t.x0 + t.side // 2, t.y0 + t.side // 2)
        region = CropTransform(centre[0] - reach, centre[1] - reach, 2 * reach, 2 * reach)
        local = cv2.getRotationMatrix2D((float(reach), float(reach)), angle, 1.0)
        turned = cv2.warpAffine(
            cut_and_resize(gray, region), local, (2 * reach, 2 * reach), borderMode=cv2.BORDER_REPLICATE
        )
        square = CropTransform(t.x0 - region.x0, t.y0 - region.y0, t.side, t.size)
        turn = np.hstack([local[:, :2], local[:, 2:] - local[:, :2] @ [[region.x0], [region.y0]]])
        return cut_and_resize(turned, square), TurnedCropTransform(square, turn)


def cut_and_resize(gray: np.ndarray, t: CropTransform) -> np.ndarray:
    """Cut the square ``t`` describes out of ``gray`` (replicating edges outside) and resize it."""
    height, width = gray.shape[:2]
    x1, y1 = t.x0 + t.side, t.y0 + t.side
    pad_left, pad_top = max(0, -t.x0), max(0, -t.y0)
    pad_right, pad_bottom = max(0, x1 - width), max(0, y1 - height)
    region = gray[max(0, t.y0) : min(height, y1), max(0, t.x0) : min(width, x1)]
    if region.size == 0:  # the square lies wholly outside the image: nothing to replicate from
        region = np.zeros((t.side, t.side), dtype=gray.dtype)
    elif pad_left or pad_top or pad_right or pad_bottom:
        region = cv2.copyMakeBorder(region, pad_top, pad_bottom, pad_left, pad_right, cv2.BORDER_REPLICATE)
    interpolation = cv2.INTER_AREA if t.side > t.size else cv2.INTER_LINEAR
    return cv2.resize(region, (t.size, t.size), interpolation=interpolation)


def resized_points(points: np.ndarray, from_size: int, to_size: int) -> np.ndarray:
    """Points (..., 2) of a square crop of ``from_size`` pixels, in the same square resized to ``to_size``."""
    return CropTransform(0, 0, from_size, to_size).to_crop(points)


#: The crop the keypoints model sees: the detector box itself, squared, at 96x96.
KEYPOINT_CROP = CropRule(scale=1.0, size=96)
#: The crop the expression model sees: the same square at FER2013's 48x48 (so points map between the two crops by
#: ``resized_points``).
EXPRESSION_CROP = CropRule(scale=1.0, size=48)

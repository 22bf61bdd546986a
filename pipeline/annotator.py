"""The two-stage face reader: detect faces, then the keypoints and expressions of all of a frame's faces, each network
called once per frame on all its faces; an aligned expression network reads crops aligned by the keypoint model's
eyes."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import cv2
import numpy as np

import expressions
import keypoints
from detection.choice import DEFAULT_DETECTOR, get_detector
from detection.detectors import Detection, FaceDetector
from expressions.inference import ExpressionModel
from facexpr.alignment import align_faces
from facexpr.crop import EXPRESSION_CROP, KEYPOINT_CROP, CropTransform, TurnedCropTransform, resized_points
from facexpr.exposure import dull_levels, stretch_dull
from facexpr.grain import smooth_grain
from keypoints.crops import CONTEXT
from keypoints.inference import KeypointModel
from pipeline.faces import Face

Transform = CropTransform | TurnedCropTransform  # a keypoint crop's pixels to the picture's


class Annotator:
    """Finds faces with ``detector`` and reads each with the keypoint and expression models."""

    def __init__(
        self,
        preset: str = "fer5",
        detector: FaceDetector | str = DEFAULT_DETECTOR,
        keypoint_model: KeypointModel | None = None,
        expression_model: ExpressionModel | None = None,
    ) -> None:
        self.detector = get_detector(detector) if isinstance(detector, str) else detector
        self.keypoint_model = keypoint_model or keypoints.load_model()
        self.expression_model = expression_model or expressions.load_model(preset)

    def with_detector(self, detector: FaceDetector) -> Annotator:
        """The same models behind another detector, e.g. a ``TrackingDetector``."""
        other = copy.copy(self)
        other.detector = detector
        return other

    def read(self, gray: np.ndarray) -> list[Face]:
        """Faces in a 2-D uint8 gray picture, largest first."""
        detections, crops = self.find(gray)
        return self.faces_of(detections, crops) if crops is not None else []

    def find(self, gray: np.ndarray) -> tuple[list[Detection], FaceCrops | None]:
        """The faces the detector finds in a 2-D uint8 gray picture (``prepared``), cropped for both networks (None
        where none is found)."""
        gray = prepared(gray)
        detections = self.detector.detect(gray)
        return detections, face_crops(gray, detections) if detections else None

    def faces_of(self, detections: list[Detection], crops: FaceCrops) -> list[Face]:
        """The faces of ``detections`` (of one picture or many) from their crops, each network called once on all."""
        points, labels, probs = self.read_crops(crops)
        classes = self.expression_model.classes
        return [
            Face(d.box, d.score, t.to_image(p), label, dict(zip(classes, row.tolist(), strict=True)))
            for d, t, p, label, row in zip(detections, crops.transforms, points, labels, probs, strict=True)
        ]

    def read_crops(self, crops: FaceCrops) -> tuple[np.ndarray, list[str | None], np.ndarray]:
        """Keypoints (N, 15, 2) in keypoint-crop pixels, expression labels (``None``: none of the preset's classes)
        and class probabilities (N, C) of N faces, each network called once on all of them (the keypoint network
        twice with mirror averaging: ``KeypointModel.reread``). For an aligned expression network the expression
        crops are first aligned by the eye centres of the first keypoint read; its abstainer may read both
        framings."""
        points, eyes = self.keypoint_model.predict_with_eyes(crops.keypoint, crops.context)
        if not self.expression_model.aligned:
            return points, *self.expression_model.predict(crops.expression)
        labels, probs = self.expression_model.predict(aligned_crops(crops.expression, eyes), framed=crops.expression)
        return points, labels, probs


@dataclass(frozen=True)
class FaceCrops:
    """The crops of N faces: for the keypoint network (96x96) with its transforms back to the picture and its
    context (``keypoints.crops.CONTEXT`` times wider, for the second keypoint read), and for the expression network
    (48x48)."""

    keypoint: np.ndarray  # (N, 96, 96)
    transforms: list[Transform]
    context: np.ndarray  # (N, 144, 144)
    expression: np.ndarray  # (N, 48, 48)

    @classmethod
    def concat(cls, parts: list[FaceCrops]) -> FaceCrops:
        """The crops of ``parts`` (each with at least one face) in order, as one batch."""
        return cls(
            np.concatenate([p.keypoint for p in parts]),
            [t for p in parts for t in p.transforms],
            np.concatenate([p.context for p in parts]),
            np.concatenate([p.expression for p in parts]),
        )


def prepared(gray: np.ndarray) -> np.ndarray:
    """A 2-D uint8 gray picture as it is read: stretched where dull, smoothed where grainy
    (``facexpr.exposure.stretch_dull``, ``facexpr.grain.smooth_grain``)."""
    return smooth_grain(stretch_dull(gray))


def aligned_crops(expression_crops: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """Expression crops aligned by their eye centres ``eyes`` (N, 2, 2, keypoint-crop pixels of the same squares, as
    ``KeypointModel.predict_with_eyes`` gives them)."""
    return align_faces(expression_crops, resized_points(eyes, KEYPOINT_CROP.size, expression_crops.shape[1]))


def face_crops(gray: np.ndarray, detections: list[Detection]) -> FaceCrops:
    """Each detected face's crops for both networks, cut from a 2-D gray picture by the crop rules (``one_face``)."""
    keypoint, transforms, context, expression = zip(*(one_face(gray, d) for d in detections), strict=True)
    return FaceCrops(np.stack(keypoint), list(transforms), np.stack(context), np.stack(expression))


def one_face(gray: np.ndarray, detection: Detection) -> tuple[np.ndarray, Transform, np.ndarray, np.ndarray]:
    """One face's keypoint crop and its transform, its context crop and its expression crop, cut upright (a face
    found in a turned reading from the picture turned by its ``angle``); a dull face (its keypoint crop's grey
    levels spanning under ``MIN_SPAN``: backlit, in shadow, in a picture that is not dull itself) stretched in all
    three by the keypoint crop's levels (``facexpr.exposure.dull_levels``)."""
    box, angle = detection.box, detection.angle
    keypoint, transform = KEYPOINT_CROP.crop(gray, box, angle=angle)
    context = KEYPOINT_CROP.crop(gray, box, context=CONTEXT, angle=angle)[0]
    expression = EXPRESSION_CROP.crop(gray, box, angle=angle)[0]
    levels = dull_levels(keypoint)
    if levels is not None:
        keypoint, context, expression = (cv2.LUT(crop, levels) for crop in (keypoint, context, expression))
    return keypoint, transform, context, expression

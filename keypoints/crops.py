"""Turn keypoint samples into the exact face crops the pipeline gives at run time (plus context for jitter)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from detection.choice import DEFAULT_DETECTOR, get_detector
from detection.datasets import wild_source
from detection.detectors import Detection, FaceDetector, box_contains, box_iou
from facexpr.atomic import write_atomic
from facexpr.checksum import sha256_file
from facexpr.crop import KEYPOINT_CROP, Box, CropRule
from facexpr.datadir import WILD_FACES_68, YOUTUBE_FACES_KEYPOINTS, cache_dir, dataset_file
from facexpr.errors import InvalidInputError
from facexpr.rows import OnError
from keypoints.constants import FACE_SETS, KEYPOINT_NAMES
from keypoints.datasets import KeypointSamples, load_kaggle_keypoints, load_wild_keypoints, load_youtube_faces

#: A detection is a face's only when it overlaps the box the face's landmarks predict by at least this IoU.
SAME_FACE_IOU = 0.3
#: How much wider than the crop the stored context is, so augmentation can rotate, shift and zoom out.
CONTEXT = 1.5
_NOSE = KEYPOINT_NAMES.index("nose_tip")
_EYES = (KEYPOINT_NAMES.index("left_eye_center"), KEYPOINT_NAMES.index("right_eye_center"))


@dataclass
class CropSet:
    """Face crops at the model's input size, their context, and keypoints in crop pixels."""

    crops: np.ndarray  # (N, S, S) uint8: exactly what the pipeline crops from a detected face
    context: np.ndarray  # (N, 1.5S, 1.5S) uint8: same centre, 1.5x wider, for augmentation
    keypoints: np.ndarray  # (N, 15, 2) float32 in crop pixels, NaN where missing
    groups: np.ndarray  # (N,) person of each crop
    names: np.ndarray  # (N,) source image names
    detected: np.ndarray  # (N,) bool: the box came from the detector (else estimated from landmarks)

    def __len__(self) -> int:
        return len(self.crops)

    def subset(self, index: np.ndarray) -> CropSet:
        """The crops at ``index``."""
        return CropSet(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    @classmethod
    def concat(cls, parts: list[CropSet]) -> CropSet:
        """One crop set of ``parts`` in order (their crops must share a size)."""
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in cls.__dataclass_fields__))

    def collections(self) -> np.ndarray:
        """Each crop's collection, read from its image name (``detection.datasets.wild_source``: ``afw`` or ``helen``
        for wild-faces-68 photos; meaningless for other face sets)."""
        return np.array([wild_source(str(name)) for name in self.names])

    def context_keypoints(self) -> np.ndarray:
        """Keypoints in context pixels (the crop sits at the context's centre)."""
        size = self.crops.shape[1]
        return self.keypoints + (self.context.shape[1] - size) / 2.0


def training_box(detections: list[Detection], keypoints: np.ndarray) -> Box | None:
    """A first guess at the detection a training face gets: the largest box containing its nose tip, or None."""
    for detection in detections:  # largest first
        if np.isnan(keypoints[_NOSE]).any() or box_contains(detection.box, keypoints[_NOSE]):
            return detection.box
    return None


def landmark_boxes(keypoints: np.ndarray, boxes: np.ndarray, found: np.ndarray) -> np.ndarray:
    """Every face's box as its landmarks predict it: the median box size (per eye distance) and offset (from the
    nose tip) of the ``found`` ones."""
    eye_distance = np.linalg.norm(keypoints[:, _EYES[0]] - keypoints[:, _EYES[1]], axis=1)
    side = boxes[:, 2]
    centre = boxes[:, :2] + side[:, None] / 2.0
    ratio = np.median(side[found] / eye_distance[found])
    offset = np.median((centre[found] - keypoints[found, _NOSE]) / side[found, None], axis=0)
    est_side = ratio * eye_distance
    est_centre = keypoints[:, _NOSE] + offset * est_side[:, None]
    return np.column_stack([est_centre - est_side[:, None] / 2.0, est_side, est_side])


def detected_boxes(detections: list[list[Detection]], keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(boxes, found): each face's detection, the one overlapping the box its landmarks predict the most, and only
    at IoU >= ``SAME_FACE_IOU`` (a box on a nose or on the next face is no detection of it); missed faces get the
    predicted box."""
    boxes = np.zeros((len(detections), 4), dtype=np.float64)
    found = np.zeros(len(detections), dtype=bool)
    for i, (found_here, points) in enumerate(zip(detections, keypoints, strict=True)):
        box = training_box(found_here, points)
        if box is not None:
            boxes[i], found[i] = box, True
    if not found.any():
        return boxes, found
    predicted = landmark_boxes(keypoints, boxes, found)
    for i, (found_here, expected) in enumerate(zip(detections, predicted, strict=True)):
        if not np.isfinite(expected).all():
            continue  # landmarks too incomplete to check: the first guess stands
        overlaps = [box_iou(d.box, tuple(expected)) for d in found_here]
        best = int(np.argmax(overlaps)) if overlaps else -1
        found[i] = best >= 0 and overlaps[best] >= SAME_FACE_IOU
        if found[i]:
            boxes[i] = found_here[best].box
    if not found.any():
        return predicted, found
    return np.where(found[:, None], boxes, landmark_boxes(keypoints, boxes, found)), found


def build_crop_set(
    samples: KeypointSamples,
    detector: FaceDetector | None = None,
    rule: CropRule = KEYPOINT_CROP,
    progress: bool = True,
) -> CropSet:
    """Crop every sample by ``rule`` around its detector box.

    With a detector, each face gets the box the pipeline would find (``detected_boxes``); faces the detector misses
    get a box predicted from their landmarks. Without one (data that is already cropped, like Kaggle's 96x96
    faces), the whole image is the box.
    """
    n = len(samples)
    if detector is None:
        boxes = np.array([(0, 0, *image.shape[::-1]) for image in samples.images], dtype=np.float64)
        found = np.ones(n, dtype=bool)
    else:
        images = tqdm(samples.images, desc="detecting faces", disable=not progress)
        boxes, found = detected_boxes([detector.detect(image) for image in images], samples.keypoints)
    crops, context, keypoints = [], [], []
    for image, box, points in zip(samples.images, boxes, samples.keypoints, strict=True):
        crop, transform = rule.crop(image, box)
        crops.append(crop)
        context.append(rule.crop(image, box, context=CONTEXT)[0])
        keypoints.append(transform.to_crop(points))
    return CropSet(
        np.stack(crops),
        np.stack(context),
        np.stack(keypoints).astype(np.float32),
        np.asarray(samples.groups),
        np.asarray(samples.names),
        found,
    )


def load_youtube_crops(
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    on_error: OnError = "raise",
    detector: str = DEFAULT_DETECTOR,
) -> CropSet:
    """YouTube-Faces crops by the pipeline's rule around the boxes of ``detector`` (by name; default the pipeline's),
    cached by the CSV's checksum, the rule's and the detector's settings."""
    return _cached_crops(
        "youtube",
        dataset_file(YOUTUBE_FACES_KEYPOINTS, data_dir),
        detector,
        on_error,
        lambda: load_youtube_faces(data_dir, on_error),
        progress,
    )


def load_wild_crops(
    data_dir: str | os.PathLike[str] | None = None, progress: bool = True, detector: str = DEFAULT_DETECTOR
) -> CropSet:
    """wild-faces-68 crops (one per annotated face, grouped by photo) by the same rule and detector, cached alike."""
    return _cached_crops(
        "wild",
        dataset_file(WILD_FACES_68, data_dir),
        detector,
        "raise",
        lambda: load_wild_keypoints(data_dir),
        progress,
    )


def _cached_crops(
    kind: str,
    csv_path: Path,
    detector: str,
    on_error: OnError,
    samples: Callable[[], KeypointSamples],
    progress: bool,
) -> CropSet:
    """The crop set of ``samples()`` around ``detector``'s boxes, cached by the CSV's checksum and the settings."""
    finder = get_detector(detector)
    key = json.dumps(
        {
            "csv": sha256_file(csv_path),
            "rule": KEYPOINT_CROP.__dict__,
            "detector": finder.params(),
            "context": CONTEXT,
            "same_face_iou": SAME_FACE_IOU,
            "on_error": on_error,
        },
        sort_keys=True,
    )
    cached = cache_dir() / f"{kind}-crops-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if cached.is_file():
        with np.load(cached) as arrays:
            return CropSet(**{name: arrays[name] for name in CropSet.__dataclass_fields__})
    crop_set = build_crop_set(samples(), finder, progress=progress)
    write_atomic(cached, lambda tmp: np.savez(tmp, **crop_set.__dict__))
    return crop_set


def load_crops(
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | os.PathLike[str] | None = None,
    on_error: OnError = "raise",
    detector: str = DEFAULT_DETECTOR,
    faces: str = "youtube",
) -> CropSet:
    """The crops of one face set (``keypoints.constants.FACE_SETS``) through ``detector`` (default the pipeline's)
    and the crop rule, or of a Kaggle CSV as is."""
    if kaggle_csv:
        return build_crop_set(load_kaggle_keypoints(kaggle_csv, on_error=on_error), detector=None)
    if faces not in FACE_SETS:
        raise InvalidInputError(f"unknown face set {faces!r}; expected one of {tuple(FACE_SETS)}")
    if faces == "wild":
        return load_wild_crops(data_dir, detector=detector)
    return load_youtube_crops(data_dir, on_error=on_error, detector=detector)

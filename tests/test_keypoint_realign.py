"""The second keypoint read: re-alignment to the mean shape on real faces, the round trip back, bad input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import keypoints
from facexpr.errors import InvalidInputError
from keypoints.augment import KeypointAugmenter
from keypoints.config import KeypointConfig
from keypoints.crops import CropSet
from keypoints.metrics import keypoint_metrics
from keypoints.realign import MEAN_SHAPE, mean_shape, points_back, realign_matrices, realigned_faces


def turned(crops: CropSet, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Context crops and crop-pixel keypoints of ``crops`` turned about the centre by ``degrees``."""
    size, side = crops.crops.shape[1], crops.context.shape[1]
    matrix = cv2.getRotationMatrix2D(((side - 1) / 2.0, (side - 1) / 2.0), degrees, 1.0)
    context = np.stack(
        [cv2.warpAffine(crop, matrix, (side, side), borderMode=cv2.BORDER_REPLICATE) for crop in crops.context]
    )
    offset = (side - size) / 2.0
    points = (crops.keypoints + offset) @ matrix[:, :2].T + matrix[:, 2] - offset
    return context, points.astype(np.float32)


def eye_angle(points: np.ndarray) -> np.ndarray:
    """Degrees of each face's eye line from level."""
    left, right = points[:, 0], points[:, 1]
    return np.degrees(np.arctan2(left[:, 1] - right[:, 1], left[:, 0] - right[:, 0]))


def test_a_turned_face_is_turned_back_and_its_points_map_home(heldout_crops: CropSet) -> None:
    size = heldout_crops.crops.shape[1]
    context, points = turned(heldout_crops, 25.0)
    assert np.all(np.abs(eye_angle(points)) > 10)
    matrices = realign_matrices(points, size, context.shape[1])
    faces = realigned_faces(context, matrices, size)
    assert faces.shape == heldout_crops.crops.shape and faces.dtype == np.uint8
    offset = (context.shape[1] - size) / 2.0
    on_faces = np.einsum("nij,nkj->nki", matrices[:, :, :2], points + offset) + matrices[:, None, :, 2]
    assert np.all(np.abs(eye_angle(on_faces)) < 6)  # level again, as on the mean shape
    spread = np.sqrt(np.mean((on_faces - MEAN_SHAPE) ** 2))
    assert spread < np.sqrt(np.mean((points - MEAN_SHAPE) ** 2)) / 2
    np.testing.assert_allclose(points_back(on_faces, matrices, size, context.shape[1]), points, atol=1e-3)


def test_the_mean_shape_sits_where_real_faces_sit(heldout_crops: CropSet) -> None:
    # the held-out people's own mean lies within a few pixels of the training faces' (a tenth of the eye distance)
    assert np.abs(mean_shape(heldout_crops.keypoints) - MEAN_SHAPE).max() < 4.0


def test_the_second_read_finds_the_points_of_a_turned_face(heldout_crops: CropSet) -> None:
    model = keypoints.load_model()
    context, truth = turned(heldout_crops, 25.0)
    size, side = heldout_crops.crops.shape[1], context.shape[1]
    crops = context[:, (side - size) // 2 : (side + size) // 2, (side - size) // 2 : (side + size) // 2]
    first = model.predict(crops)
    both = model.predict(crops, context)
    assert keypoint_metrics(both, truth)[0]["rmse_px"] < keypoint_metrics(first, truth)[0]["rmse_px"]
    np.testing.assert_allclose(keypoints.load_model(tta=False).predict(crops, context), first, atol=5.0)


def test_bad_context_crops_are_named() -> None:
    model = keypoints.load_model()
    faces = np.zeros((2, 96, 96), np.uint8)
    with pytest.raises(InvalidInputError, match="context crops"):
        model.predict(faces, np.zeros((2, 64, 64), np.uint8))
    with pytest.raises(InvalidInputError, match="2 faces but 3 context crops"):
        model.predict(faces, np.zeros((3, 144, 144), np.uint8))
    with pytest.raises(InvalidInputError, match=r"\(N, 15, 2\)"):
        realign_matrices(np.zeros((2, 5, 2)), 96, 144)
    assert model.predict(faces[:0], np.zeros((0, 144, 144), np.uint8)).shape == (0, 15, 2)


def test_training_faces_can_be_realigned_as_the_second_read_sees_them(heldout_crops: CropSet) -> None:
    rng = np.random.default_rng(0)
    points = heldout_crops.context_keypoints()
    readings = {}
    for share in (0.0, 1.0):
        augment = KeypointAugmenter(KeypointConfig(realign_prob=share, realign_noise_px=0.0, flip_prob=0.0))
        moved = np.stack([augment(c, p, rng)[1] for c, p in zip(heldout_crops.context, points, strict=True)])
        readings[share] = np.sqrt(np.mean((moved - MEAN_SHAPE) ** 2))
    assert readings[1.0] < readings[0.0] / 2  # level, centred and scaled like the mean shape
    with pytest.raises(InvalidInputError, match="realign_prob"):
        KeypointConfig(realign_prob=1.5)

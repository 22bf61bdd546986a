"""Eye alignment: the rule itself, real FER2013 faces turned back, the cached eyes, and the pipeline's aligned crops."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import keypoints
from expressions.datasets import load_fer2013
from expressions.inference import ExpressionModel, load_model
from facexpr.alignment import MAX_TURN_DEG, ZOOM_RANGE, align_faces, alignment_matrix, canonical_eyes
from facexpr.errors import DataNotFoundError, InvalidInputError
from pipeline import Annotator
from pipeline.annotator import aligned_crops, face_crops
from pipeline.cli import main
from pipeline.fer_eyes import face_eyes
from pipeline.sample import sample_photo


def moved(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def eye_angle(eyes: np.ndarray) -> np.ndarray:
    """Degrees of the eye line, per (.., 2, 2) pair (0: level)."""
    line = eyes[..., 0, :] - eyes[..., 1, :]
    return np.degrees(np.arctan2(line[..., 1], line[..., 0]))


def turned(picture: np.ndarray, degrees: float) -> np.ndarray:
    height, width = picture.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), degrees, 1.0)
    return cv2.warpAffine(picture, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def test_canonical_eyes_are_left_as_they_are() -> None:
    for size in (48, 64):
        np.testing.assert_allclose(alignment_matrix(canonical_eyes(size), size), np.eye(2, 3), atol=1e-9)


def test_the_rule_puts_tilted_eyes_on_the_canonical_places() -> None:
    target = canonical_eyes(48)
    angle = np.radians(20)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    eyes = (target - target.mean(axis=0)) @ rotation.T * 0.9 + target.mean(axis=0) + [1.5, -2.0]
    np.testing.assert_allclose(moved(alignment_matrix(eyes, 48), eyes), target, atol=1e-6)


def test_zoom_and_turn_are_clipped_and_unread_eyes_change_nothing() -> None:
    close = np.array([[25.0, 20.0], [23.0, 20.0]])  # 2 px apart: would need a 9x zoom
    assert np.hypot(*alignment_matrix(close, 48)[:, 0]) == pytest.approx(ZOOM_RANGE[1])
    upright = np.array([[24.0, 30.0], [24.0, 12.0]])  # one eye above the other: a 90-degree turn
    turn = np.degrees(np.arctan2(-alignment_matrix(upright, 48)[1, 0], alignment_matrix(upright, 48)[0, 0]))
    assert abs(turn) == pytest.approx(MAX_TURN_DEG)
    np.testing.assert_array_equal(alignment_matrix(np.full((2, 2), np.nan), 48), np.eye(2, 3))
    with pytest.raises(InvalidInputError, match="eye"):
        alignment_matrix(np.zeros(4), 48)
    with pytest.raises(InvalidInputError, match="3 faces but 2"):
        align_faces(np.zeros((3, 48, 48), np.uint8), np.zeros((2, 2, 2)))


def test_turned_real_faces_are_turned_back(fer_sample: Path) -> None:
    faces = load_fer2013(fer_sample).images[:60]
    tilted = np.stack([turned(face, 25.0) for face in faces])
    before = face_eyes(tilted)
    after = face_eyes(align_faces(tilted, before))
    assert np.median(np.abs(eye_angle(before))) > 15  # the keypoint model sees the turn
    assert np.median(np.abs(eye_angle(after))) < 4
    assert np.median(np.linalg.norm(after - canonical_eyes(48), axis=-1)) < 1.5


def test_cached_eyes_align_the_loaded_faces(
    fer_sample: Path, isolated_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    (data / "fer2013").mkdir(parents=True)
    shutil.copyfile(fer_sample, data / "fer2013" / "fer2013.csv")
    monkeypatch.setattr("expressions.eyes._readers", [])  # no reader registered: the cache must be written first
    with pytest.raises(DataNotFoundError, match="facexpr align-fer2013"):
        load_fer2013(data_dir=data, aligned=True)
    assert main(["align-fer2013", "--data", str(data)]) == 0
    plain, aligned = load_fer2013(data_dir=data), load_fer2013(data_dir=data, aligned=True)
    np.testing.assert_array_equal(aligned.images, align_faces(plain.images, face_eyes(plain.images)))
    assert not np.array_equal(aligned.images, plain.images)


def test_a_registered_reader_fills_missing_eyes_on_first_use(
    fer_sample: Path, isolated_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expressions.eyes import cached_identity, eyes_file, read_eyes
    from pipeline.fer_eyes import reader_identity

    assert not eyes_file(fer_sample).is_file()
    aligned = load_fer2013(fer_sample, aligned=True)  # tests/conftest.py registers the reader, as the CLI does
    assert eyes_file(fer_sample).is_file() and cached_identity(fer_sample) == reader_identity()
    np.testing.assert_array_equal(aligned.images, load_fer2013(fer_sample, aligned=True).images)
    # Eyes another keypoint model read are read again by the registered one, never mixed with its own.
    with monkeypatch.context() as patch:
        other = (lambda faces: np.full((len(faces), 2, 2), 20.0), lambda: "another")
        patch.setattr("expressions.eyes._readers", [other])
        load_fer2013(fer_sample, aligned=True)
        assert cached_identity(fer_sample) == "another" and np.all(read_eyes(fer_sample, np.arange(3)) == 20.0)
    np.testing.assert_array_equal(load_fer2013(fer_sample, aligned=True).images, aligned.images)
    assert cached_identity(fer_sample) == reader_identity()


def test_an_aligned_network_reads_crops_aligned_by_the_keypoints() -> None:
    plain = load_model("fer5", abstain=False)
    aligned = ExpressionModel(plain.network, "fer5", aligned=True)
    annotator = Annotator(keypoint_model=keypoints.load_model(), expression_model=aligned)
    gray = cv2.cvtColor(turned(sample_photo(), 15.0), cv2.COLOR_RGB2GRAY)
    crops = face_crops(gray, annotator.detector.detect(gray))
    _, _, probs = annotator.read_crops(crops)
    straightened = aligned_crops(crops.expression, annotator.keypoint_model.predict_with_eyes(crops.keypoint)[1])
    np.testing.assert_allclose(probs, aligned.probabilities(straightened), atol=1e-5)
    assert len(probs) == 1
    assert abs(eye_angle(face_eyes(straightened))[0]) < 4 < abs(eye_angle(face_eyes(crops.expression))[0])

"""The person split, the crop rule shared by training and inference, and flip augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detection.detectors import Detection, HaarFaceDetector
from facexpr.crop import KEYPOINT_CROP, CropRule
from facexpr.errors import InvalidInputError
from keypoints.augment import KeypointAugmenter
from keypoints.config import KeypointConfig
from keypoints.constants import KEYPOINT_NAMES
from keypoints.crops import build_crop_set, detected_boxes
from keypoints.datasets import load_youtube_faces, person_of
from keypoints.geometry import mirror, mirror_keypoints
from keypoints.metrics import mirror_habit
from keypoints.split import split_by_person
from keypoints.train import balanced_collections, balanced_rows


def test_split_keeps_every_person_on_one_side(youtube_table: pd.DataFrame) -> None:
    groups = np.array([person_of(n) for n in youtube_table["image"]])
    split = split_by_person(groups, test_fraction=0.15, val_fraction=0.1, seed=0)
    sides = [set(groups[split.train]), set(groups[split.val]), set(groups[split.test])]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert len(split.train) + len(split.val) + len(split.test) == len(groups)
    people = len(set(groups))
    assert abs(len(sides[2]) - 0.15 * people) <= 1
    again = split_by_person(groups, test_fraction=0.15, val_fraction=0.2, seed=0)
    assert np.array_equal(again.test, split.test)  # the test people do not depend on the validation setting


def test_training_crop_is_the_pipeline_crop(heldout_dir: Path) -> None:
    samples = load_youtube_faces(heldout_dir)
    crops = build_crop_set(samples, HaarFaceDetector(), progress=False)
    detector = HaarFaceDetector()
    for i, image in enumerate(samples.images[:4]):
        box = detector.detect(image)[0].box  # what the pipeline finds at run time
        runtime_crop, transform = KEYPOINT_CROP.crop(image, box)
        assert np.array_equal(crops.crops[i], runtime_crop)
        assert np.allclose(crops.keypoints[i], transform.to_crop(samples.keypoints[i]), atol=1e-4)
    assert crops.crops.shape[1:] == (96, 96) and crops.context.shape[1:] == (144, 144)


def test_a_box_on_the_nose_or_on_the_next_face_is_no_detection_of_a_face() -> None:
    # three faces 100 px apart with eyes 40 px apart and the nose tip 20 px below them; the right box is 100 px wide
    def face(x: float) -> np.ndarray:
        points = np.full((15, 2), np.nan)
        points[KEYPOINT_NAMES.index("left_eye_center")] = (x + 20, 100)
        points[KEYPOINT_NAMES.index("right_eye_center")] = (x - 20, 100)
        points[KEYPOINT_NAMES.index("nose_tip")] = (x, 120)
        return points

    keypoints = np.stack([face(100), face(300), face(500), face(700)])
    right = [Detection((x - 50, 70, 100, 100), 1.0) for x in (100, 300, 500, 700)]
    nose_box = Detection((490, 110, 20, 20), 1.0)  # the only box on the third face: around its nose
    wide = Detection((150, 20, 300, 300), 1.0)  # a big box holding the second face's nose, largest first
    boxes, found = detected_boxes([[right[0]], [wide, right[1]], [nose_box], [right[3]]], keypoints)
    assert found.tolist() == [True, True, False, True]
    assert tuple(boxes[1]) == right[1].box  # the box that matches the landmarks, not the largest
    assert np.allclose(boxes[2], right[2].box)  # predicted from the landmarks as the other faces' boxes sit


def test_crop_transform_round_trip_and_padding() -> None:
    image = np.arange(100 * 80, dtype=np.uint8).reshape(100, 80)
    rule = CropRule(scale=1.0, size=50)
    crop, transform = rule.crop(image, (60, -10, 40, 40))  # partly outside the image
    assert crop.shape == (50, 50)
    points = np.array([[65.0, 3.0], [79.0, 20.0]])
    assert np.allclose(transform.to_image(transform.to_crop(points)), points, atol=1e-4)
    # pixel-centre convention: image point (59.9, -10.1) is where crop pixel (0, 0) centres (0.4 image px = 0.5 crop px)
    assert np.allclose(transform.to_crop(np.array([[59.9, -10.1]])), [[0.0, 0.0]], atol=1e-4)


def test_flip_moves_left_eye_to_the_mirrored_right_eye() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (144, 144), dtype=np.uint8)
    points = rng.uniform(20, 120, (15, 2)).astype(np.float32)
    flipped_image, flipped = mirror(image, points)
    left, right = KEYPOINT_NAMES.index("left_eye_center"), KEYPOINT_NAMES.index("right_eye_center")
    assert np.allclose(flipped[left], [143 - points[right, 0], points[right, 1]])
    assert np.allclose(flipped[right], [143 - points[left, 0], points[left, 1]])
    x, y = np.round(points[right]).astype(int)
    assert flipped_image[y, 143 - x] == image[y, x]


def test_label_offset_keeps_the_labels_habit() -> None:
    rng = np.random.default_rng(1)
    features = rng.uniform(20, 120, (15, 2)).astype(np.float32)
    labels = features + [0.9, 0.0]  # labels drawn 0.9 px right of the features they mark
    mirrored = mirror_keypoints(labels, 144, offset=0.9)
    assert np.allclose(mirrored, mirror_keypoints(features, 144) + [0.9, 0.0], atol=1e-5)
    assert np.allclose(mirror_keypoints(mirrored, 144, offset=0.9), labels, atol=1e-5)
    habit = rng.normal(0, 0.5, (15, 2))  # one (dx, dy) per keypoint: each label sits off its feature its own way
    labels = features + habit
    mirrored = mirror_keypoints(labels, 144, offset=habit)
    assert np.allclose(mirrored, mirror_keypoints(features, 144) + habit, atol=1e-5)
    assert np.allclose(mirror_keypoints(mirrored, 144, offset=habit), labels, atol=1e-5)


def test_mirror_habit_of_a_model_that_learnt_the_labels_is_their_habit() -> None:
    rng = np.random.default_rng(2)
    features = rng.uniform(20, 76, (40, 15, 2)).astype(np.float32)
    habit = rng.normal(0, 0.5, (15, 2))
    # a model that reads the labels' habit into every face it sees, mirrored ones too
    measured = mirror_habit(features + habit, mirror_keypoints(features, 96) + habit, 96)
    points = rng.uniform(20, 76, (15, 2))
    assert np.allclose(mirror_keypoints(points, 96, measured), mirror_keypoints(points, 96, habit), atol=1e-4)


def test_augmentation_moves_points_with_the_image() -> None:
    image = np.zeros((144, 144), dtype=np.uint8)
    points = np.array([[40.0 + 5 * i, 50.0 + 4 * i] for i in range(15)], dtype=np.float32)
    for x, y in points.round().astype(int):
        image[y - 1 : y + 2, x - 1 : x + 2] = 255
    config = KeypointConfig(brightness=0, contrast=0, blur_prob=0, noise_prob=0)
    augment = KeypointAugmenter(config)
    for seed in range(5):
        face, moved = augment(image, points, np.random.default_rng(seed))
        inside = (moved >= 1).all(axis=1) & (moved <= 94).all(axis=1)
        for x, y in moved[inside].round().astype(int):
            assert face[y - 1 : y + 2, x - 1 : x + 2].max() > 100  # a bright dot under every moved point
    centred, same = augment.centre(image, points)
    assert np.allclose(same, points - 24) and np.array_equal(centred, image[24:120, 24:120])


def test_wild_photos_are_held_out_as_the_detector_holds_them_out(data_dir: Path) -> None:
    from detection.datasets import load_wild_faces
    from detection.split import select_part

    faces = pd.read_csv(data_dir / "wild-faces-68" / "landmarks68.csv", usecols=["image"])["image"].to_numpy()
    config = KeypointConfig()
    split = split_by_person(faces, config.test_fraction, config.val_fraction, config.split_seed)
    assert set(faces[split.test]) == {p.name for p in select_part(load_wild_faces(data_dir), "test")}


def test_keypoints_evaluate_reads_wild_photos(
    tmp_path: Path, data_dir: Path, youtube_table: pd.DataFrame, isolated_cache: Path
) -> None:
    import json

    from detection.datasets import load_wild_faces
    from pipeline.cli import main
    from tests.test_detection_evaluate import _subset

    photos = load_wild_faces(data_dir)
    chosen = [photo for source in ("afw", "helen") for photo in [p for p in photos if p.source == source][:30]]
    data = _subset(tmp_path / "data", data_dir, chosen, youtube_table.iloc[:2])
    out = tmp_path / "out"
    args = ["keypoints", "evaluate", "--data", str(data), "--faces", "wild", "--detector", "haar", "--out", str(out)]
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    overall, sources = metrics["overall"], metrics["per_source"]
    assert 0 < overall["faces"] < sum(len(p.centres) for p in chosen)  # the held-out photos' faces only
    assert 0.0 < overall["nme"] < 0.5
    assert set(sources) == {"afw", "helen"} and sum(s["faces"] for s in sources.values()) == overall["faces"]


def test_flips_keep_the_offset_of_each_face_sets_labels_only() -> None:
    config = KeypointConfig(
        faces=("youtube", "wild"),
        label_offset_px=0.9,
        label_offset_faces=("youtube",),
        flip_prob=1.0,
        rotation_deg=0,
        shift=0,
        scale_range=(1.0, 1.0),
        brightness=0,
        contrast=0,
        blur_prob=0,
        noise_prob=0,
    )
    augment = KeypointAugmenter(config)
    image = np.zeros((144, 144), dtype=np.uint8)
    points = np.random.default_rng(3).uniform(40, 100, (15, 2)).astype(np.float32)
    _, youtube = augment(image, points, np.random.default_rng(0), "youtube")
    _, wild = augment(image, points, np.random.default_rng(0), "wild")
    assert np.allclose(youtube - wild, [1.8, 0.0], atol=1e-4)  # the habit kept: 2 x 0.9 px in x after a mirror
    assert np.allclose(wild, mirror_keypoints(points, 144) - 24, atol=1e-4)


def test_label_offset_faces_must_be_trained_sets() -> None:
    assert not KeypointConfig(faces=("youtube", "wild")).habit_varies
    assert KeypointConfig(faces=("youtube", "wild"), label_offset_faces=("youtube",)).habit_varies
    with pytest.raises(InvalidInputError, match="label_offset_faces"):
        KeypointConfig(faces=("youtube",), label_offset_faces=("wild",))


def test_balanced_rows_repeat_the_smaller_set() -> None:
    face_sets = np.array(["youtube"] * 7 + ["wild"] * 3)
    rows = balanced_rows(np.arange(10), face_sets)
    assert (face_sets[rows] == "youtube").sum() == (face_sets[rows] == "wild").sum() == 7
    assert set(rows) == set(range(10))


def test_balanced_collections_repeat_afw_to_helens_count_and_leave_youtube_alone() -> None:
    face_sets = np.array(["youtube"] * 4 + ["wild"] * 6)
    collections = np.array(["a.jpg"] * 4 + ["helen"] * 4 + ["afw"] * 2)
    rows = balanced_collections(np.arange(10), face_sets, collections)
    assert sorted(rows[:4]) == [0, 1, 2, 3]
    assert list(collections[rows[4:]]).count("afw") == 4 == len(rows) - 4 - 4
    assert balanced_collections(np.arange(4), face_sets, collections).tolist() == [0, 1, 2, 3]

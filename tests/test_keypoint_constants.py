"""The keypoint constants: Kaggle order, left/right flip pairs and the 68-to-15 map."""

from __future__ import annotations

import numpy as np

from keypoints.constants import (
    FLIP_PAIRS,
    FLIP_PERMUTATION,
    IBUG68_TO_KAGGLE15,
    KAGGLE_COORD_COLUMNS,
    KEYPOINT_NAMES,
)
from keypoints.datasets import ibug68_to_kaggle15


def test_names_in_kaggle_order() -> None:
    assert KEYPOINT_NAMES[:2] == ("left_eye_center", "right_eye_center")
    assert KEYPOINT_NAMES[-1] == "mouth_center_bottom_lip"
    assert len(KEYPOINT_NAMES) == 15
    assert KAGGLE_COORD_COLUMNS[:4] == (
        "left_eye_center_x",
        "left_eye_center_y",
        "right_eye_center_x",
        "right_eye_center_y",
    )


def test_flip_pairs_swap_left_and_right_only() -> None:
    names = {(KEYPOINT_NAMES[a], KEYPOINT_NAMES[b]) for a, b in FLIP_PAIRS}
    assert ("left_eye_center", "right_eye_center") in names
    assert ("mouth_left_corner", "mouth_right_corner") in names
    assert len(FLIP_PAIRS) == 6
    permutation = np.array(FLIP_PERMUTATION)
    assert (permutation[permutation] == np.arange(15)).all()  # an involution
    centre_points = [i for i, n in enumerate(KEYPOINT_NAMES) if "left" not in n and "right" not in n]
    assert all(FLIP_PERMUTATION[i] == i for i in centre_points)


def test_ibug_mapping_means_and_picks() -> None:
    points = np.arange(136, dtype=float).reshape(68, 2)
    mapped = ibug68_to_kaggle15(points)
    assert mapped.shape == (15, 2)
    assert np.allclose(mapped[0], points[42:48].mean(0))  # left eye centre = mean of 42..47
    assert np.allclose(mapped[KEYPOINT_NAMES.index("nose_tip")], points[30])
    assert set(IBUG68_TO_KAGGLE15) == set(KEYPOINT_NAMES)

"""Constants that describe the keypoint data: names, flip pairs, column layout and the 68-to-15 map."""

from __future__ import annotations

#: The 15 Kaggle Facial Keypoints, in Kaggle's column order. "left" is the subject's left (image right).
KEYPOINT_NAMES: tuple[str, ...] = (
    "left_eye_center",
    "right_eye_center",
    "left_eye_inner_corner",
    "left_eye_outer_corner",
    "right_eye_inner_corner",
    "right_eye_outer_corner",
    "left_eyebrow_inner_end",
    "left_eyebrow_outer_end",
    "right_eyebrow_inner_end",
    "right_eyebrow_outer_end",
    "nose_tip",
    "mouth_left_corner",
    "mouth_right_corner",
    "mouth_center_top_lip",
    "mouth_center_bottom_lip",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
#: Indices of the left and right eye centres: the points faces are aligned by (``facexpr.alignment``).
EYE_CENTRES: tuple[int, int] = (KEYPOINT_NAMES.index("left_eye_center"), KEYPOINT_NAMES.index("right_eye_center"))

#: Kaggle ``training.csv`` coordinate columns (``<name>_x``, ``<name>_y`` per keypoint) and image column.
KAGGLE_COORD_COLUMNS: tuple[str, ...] = tuple(f"{name}_{axis}" for name in KEYPOINT_NAMES for axis in ("x", "y"))
KAGGLE_IMAGE_COLUMN = "Image"
KAGGLE_IMAGE_SIZE = 96

#: Pairs of keypoint indices that swap places when a face is mirrored horizontally.
FLIP_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (KEYPOINT_NAMES.index(name), KEYPOINT_NAMES.index(name.replace("left", "right")))
    for name in KEYPOINT_NAMES
    if "left" in name
)

#: Index permutation applying FLIP_PAIRS: ``points[FLIP_PERMUTATION]`` swaps every left/right pair.
FLIP_PERMUTATION: tuple[int, ...] = tuple(
    next((b if a == i else a for a, b in FLIP_PAIRS if i in (a, b)), i) for i in range(NUM_KEYPOINTS)
)

#: For each Kaggle keypoint, the 0-based iBUG/300-W 68-point indices whose mean gives it.
IBUG68_TO_KAGGLE15: dict[str, tuple[int, ...]] = {
    "left_eye_center": (42, 43, 44, 45, 46, 47),
    "right_eye_center": (36, 37, 38, 39, 40, 41),
    "left_eye_inner_corner": (42,),
    "left_eye_outer_corner": (45,),
    "right_eye_inner_corner": (39,),
    "right_eye_outer_corner": (36,),
    "left_eyebrow_inner_end": (22,),
    "left_eyebrow_outer_end": (26,),
    "right_eyebrow_inner_end": (21,),
    "right_eyebrow_outer_end": (17,),
    "nose_tip": (30,),
    "mouth_left_corner": (54,),
    "mouth_right_corner": (48,),
    "mouth_center_top_lip": (51,),
    "mouth_center_bottom_lip": (57,),
}

#: Keypoints whose distance normalises the mean error (NME): the two outer eye corners.
NME_NORMALISERS: tuple[int, int] = (
    KEYPOINT_NAMES.index("left_eye_outer_corner"),
    KEYPOINT_NAMES.index("right_eye_outer_corner"),
)

#: The parts of the person split an evaluation can read, with their titles; "test" is the held-out people of the
#: final report.
SPLIT_PARTS: dict[str, str] = {"test": "held-out people", "val": "validation people", "train": "training people"}
#: The face sets ``facexpr keypoints evaluate`` reads: YouTube-Faces frames (split by person) or wild-faces-68 photos
#: (split by photo, the same seeded draw as ``facexpr detect evaluate``'s held-out photos).
FACE_SETS: dict[str, str] = {"youtube": "YouTube-Faces", "wild": "wild-faces-68 photos"}
#: What each face set's faces are grouped (split, resampled) by.
GROUPED_BY: dict[str, str] = {"youtube": "people", "wild": "photos"}

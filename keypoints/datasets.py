"""Loaders for keypoint datasets: YouTube-Faces 68-point frames and the Kaggle Facial Keypoints layout."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from facexpr.datadir import KAGGLE_KEYPOINTS, WILD_FACES_68, YOUTUBE_FACES_KEYPOINTS, dataset_file
from facexpr.errors import DataFormatError, InvalidInputError
from facexpr.rows import OnError, parse_pixels, report_bad_rows
from keypoints.constants import (
    IBUG68_TO_KAGGLE15,
    KAGGLE_COORD_COLUMNS,
    KAGGLE_IMAGE_COLUMN,
    KAGGLE_IMAGE_SIZE,
    KEYPOINT_NAMES,
    NUM_KEYPOINTS,
)

IBUG68_COLUMNS = 136  # x0, y0, ..., x67, y67


@dataclass
class KeypointSamples:
    """Gray face images with 15 keypoints each (image pixels; NaN where a point is missing)."""

    images: list[np.ndarray]
    keypoints: np.ndarray  # (N, 15, 2) float32
    names: list[str]
    groups: np.ndarray  # (N,) who each image shows: split on this so one person stays on one side
    skipped: list[str] = field(default_factory=list)  # problems of the rows left out (on_error="skip")

    def __len__(self) -> int:
        return len(self.images)


def ibug68_to_kaggle15(points68: np.ndarray) -> np.ndarray:
    """Map (..., 68, 2) iBUG/300-W landmarks to the (..., 15, 2) Kaggle keypoints."""
    points68 = np.asarray(points68, dtype=np.float64)
    if points68.shape[-2:] != (68, 2):
        raise InvalidInputError(f"expected (..., 68, 2) landmarks, got shape {points68.shape}")
    mapped = [points68[..., list(IBUG68_TO_KAGGLE15[name]), :].mean(axis=-2) for name in KEYPOINT_NAMES]
    return np.stack(mapped, axis=-2).astype(np.float32)


def person_of(image_name: str) -> str:
    """The person a YouTube-Faces frame shows: the file name before its last underscore."""
    return Path(image_name).stem.rsplit("_", 1)[0]


def load_youtube_faces(data_dir: str | os.PathLike[str] | None = None, on_error: OnError = "raise") -> KeypointSamples:
    """Read ``youtube-faces-keypoints/keypoints68.csv`` and its images, mapped to the 15 keypoints."""
    csv_path = dataset_file(YOUTUBE_FACES_KEYPOINTS, data_dir)
    image_dir = csv_path.parent / "images"
    table = _read_csv(csv_path)
    if table.shape[1] != IBUG68_COLUMNS + 1 or table.columns[0] != "image":
        raise DataFormatError(
            f"{csv_path}: expected columns 'image' and {IBUG68_COLUMNS} coordinates, got {table.shape[1]} columns"
        )
    coords = table.iloc[:, 1:].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    images, points, names, problems = [], [], [], []
    for row, (name, values) in enumerate(zip(table["image"], coords, strict=True)):
        where = f"line {row + 2} ({name})"
        if not np.isfinite(values).all():
            problems.append(f"{where}: {int((~np.isfinite(values)).sum())} missing or non-numeric coordinate(s)")
            continue
        path = image_dir / str(name)
        if not path.is_file():
            problems.append(f"{where}: image file {path} not found")
            continue
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            problems.append(f"{where}: image file {path} is unreadable")
            continue
        images.append(image)
        points.append(values.reshape(68, 2))
        names.append(str(name))
    skipped = report_bad_rows(problems, csv_path, on_error)
    keypoints = ibug68_to_kaggle15(np.array(points).reshape(-1, 68, 2))
    groups = np.array([person_of(n) for n in names])
    return KeypointSamples(images, keypoints, names, groups, skipped)


def load_wild_keypoints(data_dir: str | os.PathLike[str] | None = None) -> KeypointSamples:
    """wild-faces-68: one sample per annotated face (gray photo, 15 keypoints), grouped by photo, in the CSV's order.

    Faces of one photo share its image array, so a split by photo keeps them together.
    """
    csv_path = dataset_file(WILD_FACES_68, data_dir)
    table = _read_csv(csv_path)
    if list(table.columns[:3]) != ["image", "source", "face"] or table.shape[1] != IBUG68_COLUMNS + 3:
        raise DataFormatError(f"{csv_path}: expected columns image,source,face and {IBUG68_COLUMNS} coordinates")
    coords = table.iloc[:, 3:].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    if not np.isfinite(coords).all():
        raise DataFormatError(f"{csv_path}: every row needs {IBUG68_COLUMNS} numeric coordinates")
    photos: dict[str, np.ndarray] = {}
    for name in table["image"].astype(str).unique():
        image = cv2.imread(str(csv_path.parent / "images" / name), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise DataFormatError(f"{csv_path}: image file images/{name} is missing or unreadable")
        photos[name] = image
    names = table["image"].astype(str).tolist()
    keypoints = ibug68_to_kaggle15(coords.reshape(-1, 68, 2))
    return KeypointSamples([photos[n] for n in names], keypoints, names, np.array(names))


def load_kaggle_keypoints(
    path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    on_error: OnError = "raise",
) -> KeypointSamples:
    """Read a Kaggle Facial Keypoints ``training.csv``: 30 coordinate columns and ``Image`` (96x96 pixels).

    Missing coordinates stay NaN, so the training loss masks them and the rest of the row still teaches.
    """
    csv_path = Path(path) if path is not None else dataset_file(KAGGLE_KEYPOINTS, data_dir)
    table = _read_csv(csv_path)
    missing = [c for c in (*KAGGLE_COORD_COLUMNS, KAGGLE_IMAGE_COLUMN) if c not in table.columns]
    if missing:
        raise DataFormatError(f"{csv_path}: missing column(s) {', '.join(missing)}")
    raw = table[list(KAGGLE_COORD_COLUMNS)]
    coords = raw.apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    non_numeric = raw.notna().to_numpy() & np.isnan(coords)
    pixel_count = KAGGLE_IMAGE_SIZE * KAGGLE_IMAGE_SIZE
    images, points, names, problems = [], [], [], []
    for row, (pixels, values, bad) in enumerate(zip(table[KAGGLE_IMAGE_COLUMN], coords, non_numeric, strict=True)):
        where = f"line {row + 2}"
        if bad.any():
            problems.append(f"{where}: non-numeric value in {KAGGLE_COORD_COLUMNS[int(np.argmax(bad))]}")
            continue
        if np.isnan(values).all():
            problems.append(f"{where}: no keypoint given")
            continue
        try:
            image = parse_pixels(pixels, pixel_count)
        except ValueError as error:
            problems.append(f"{where}: {error}")
            continue
        images.append(image.reshape(KAGGLE_IMAGE_SIZE, KAGGLE_IMAGE_SIZE))
        points.append(values.reshape(NUM_KEYPOINTS, 2))
        names.append(f"row{row}")
    skipped = report_bad_rows(problems, csv_path, on_error)
    keypoints = np.array(points, dtype=np.float32).reshape(-1, NUM_KEYPOINTS, 2)
    return KeypointSamples(images, keypoints, names, np.array(names), skipped)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataFormatError(f"{path}: not a readable CSV file ({error})") from error

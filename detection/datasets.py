"""Annotated faces for measuring detectors: wild-faces-68 photos and YouTube-Faces frames, with boxes from 68 points."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from facexpr.datadir import WILD_FACES_68, YOUTUBE_FACES_KEYPOINTS, dataset_file
from facexpr.errors import DataFormatError, InvalidImageError

#: Columns of 68 (x, y) points in both CSVs.
POINT_COLUMNS = 136

#: The ground-truth box rule (one fixed rule for every set): a square of side ``BOX_SCALE`` times the larger side
#: of the 68 points' extent, centred on the middle of the inner points' extent (``INNER_POINTS``: brows, nose, eyes,
#: mouth; not the jaw line, which swings to one side as a face turns) moved by ``BOX_Y_SHIFT`` of its side. The
#: constants are the framing of Haar boxes, whose crops the keypoint model reads: Haar boxes that contain a face's
#: landmark centre are, at the median, 1.16 / 1.13 extents wide and centred 0.043 / 0.064 box sides above the inner
#: extent's middle (wild-faces-68 / YouTube-Faces validation faces); the inner middle follows their centres to
#: 0.03-0.04 box sides in x (standard deviation), the whole extent's to 0.08-0.10.
BOX_SCALE = 1.15
BOX_Y_SHIFT = -0.055
INNER_POINTS = slice(17, 68)


@dataclass(frozen=True)
class AnnotatedImage:
    """One picture and the 68 points of each face annotated in it (image pixels)."""

    dataset: str  # "wild-faces-68" or "youtube-faces"
    name: str  # file name in the dataset's images/ folder
    path: Path
    group: str  # what a split keeps together: the photo (wild-faces) or the person (YouTube-Faces)
    landmarks: np.ndarray  # (faces, 68, 2)

    def read(self, flags: int = cv2.IMREAD_GRAYSCALE) -> np.ndarray:
        """The picture as OpenCV reads it with ``flags`` (2-D uint8 gray by default), or an ``InvalidImageError``."""
        picture = cv2.imread(str(self.path), flags)
        if picture is None:
            raise InvalidImageError(f"{self.path}: missing or unreadable image")
        return picture

    @property
    def boxes(self) -> np.ndarray:
        """The ground-truth (x, y, w, h) box of each face, by the landmark rule."""
        return np.array([landmark_box(points) for points in self.landmarks]).reshape(-1, 4)

    @property
    def source(self) -> str:
        """Where the picture comes from: a wild-faces-68 photo's collection (``afw``: group photos, ``helen``:
        portraits), else the dataset."""
        return wild_source(self.name) if self.dataset == "wild-faces-68" else self.dataset

    @property
    def centres(self) -> np.ndarray:
        """Each face's landmark centre: the mean of its 68 points, (faces, 2)."""
        return self.landmarks.mean(axis=1)


def wild_source(name: str) -> str:
    """The collection a wild-faces-68 picture comes from, by name: ``afw`` (group photos) or ``helen`` (portraits)."""
    return name.split("_", 1)[0]


def landmark_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """A face's ground-truth (x, y, w, h) box from its 68 points (see ``BOX_SCALE``, ``BOX_Y_SHIFT``,
    ``INNER_POINTS``)."""
    low, high = points.min(axis=0), points.max(axis=0)
    side = BOX_SCALE * float((high - low).max())
    inner = points[INNER_POINTS]
    cx, cy = (inner.min(axis=0) + inner.max(axis=0)) / 2.0
    cy += BOX_Y_SHIFT * side
    return (float(cx - side / 2.0), float(cy - side / 2.0), side, side)


def person_of(image_name: str) -> str:
    """The person a YouTube-Faces frame shows: the file name before its last underscore."""
    return Path(image_name).stem.rsplit("_", 1)[0]


def _points(table: pd.DataFrame, first: int, csv_path: Path) -> np.ndarray:
    """The 68 points of every row, from column ``first`` on; a clear error if any is missing."""
    values = table.iloc[:, first : first + POINT_COLUMNS].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    if values.shape[1] != POINT_COLUMNS or not np.isfinite(values).all():
        raise DataFormatError(f"{csv_path}: expected {POINT_COLUMNS} numeric coordinates on every row")
    return values.reshape(-1, 68, 2)


def load_wild_faces(data_dir: str | os.PathLike[str] | None = None) -> list[AnnotatedImage]:
    """wild-faces-68: one entry per photo with all its annotated faces, in file-name order."""
    csv_path = dataset_file(WILD_FACES_68, data_dir)
    table = pd.read_csv(csv_path)
    if list(table.columns[:3]) != ["image", "source", "face"]:
        raise DataFormatError(
            f"{csv_path}: expected columns image,source,face,x0,y0,..., got {list(table.columns[:3])}"
        )
    points = _points(table, 3, csv_path)
    names = table["image"].astype(str).to_numpy()
    return [
        AnnotatedImage("wild-faces-68", name, csv_path.parent / "images" / name, name, points[names == name])
        for name in sorted(set(names))
    ]


def load_youtube_frames(data_dir: str | os.PathLike[str] | None = None) -> list[AnnotatedImage]:
    """YouTube-Faces keypoint frames: one face each, grouped by person, in the CSV's order."""
    csv_path = dataset_file(YOUTUBE_FACES_KEYPOINTS, data_dir)
    table = pd.read_csv(csv_path)
    if table.columns[0] != "image":
        raise DataFormatError(f"{csv_path}: expected an 'image' column first, got {table.columns[0]!r}")
    points = _points(table, 1, csv_path)
    return [
        AnnotatedImage(
            "youtube-faces", str(name), csv_path.parent / "images" / str(name), person_of(str(name)), p[None]
        )
        for name, p in zip(table["image"], points, strict=True)
    ]

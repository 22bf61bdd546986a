"""Shared fixtures: the real data (skipped with a reason where absent) and small real subsets of it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from detection.detectors import HaarFaceDetector  # noqa: E402
from facexpr.datadir import YOUTUBE_FACES_KEYPOINTS, resolve_data_dir  # noqa: E402
from keypoints.crops import CropSet, build_crop_set  # noqa: E402
from keypoints.datasets import load_youtube_faces, person_of  # noqa: E402
from keypoints.split import split_by_person  # noqa: E402
from pipeline.fer_eyes import register_reader  # noqa: E402

register_reader()  # aligned networks' evaluations read FER2013's eyes on first use, as the CLI does


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real data directory ($FACEXPR_DATA, else ./data); tests needing it skip where it is absent."""
    root = resolve_data_dir(None)
    if not (root / YOUTUBE_FACES_KEYPOINTS.files[0]).is_file():
        pytest.skip(f"real data not found under {root.resolve()} (set FACEXPR_DATA, e.g. to ../shared/data)")
    return root


@pytest.fixture(scope="session")
def youtube_table(data_dir: Path) -> pd.DataFrame:
    """The YouTube-Faces keypoints CSV as a table."""
    return pd.read_csv(data_dir / YOUTUBE_FACES_KEYPOINTS.files[0])


def make_youtube_subset(root: Path, data_dir: Path, table: pd.DataFrame) -> Path:
    """A data directory holding only ``table``'s rows of YouTube-Faces and their images (symlinked)."""
    target = root / "youtube-faces-keypoints"
    (target / "images").mkdir(parents=True)
    table.to_csv(target / "keypoints68.csv", index=False)
    for name in table["image"]:
        source = data_dir / "youtube-faces-keypoints" / "images" / name
        if source.is_file():
            (target / "images" / name).symlink_to(source.resolve())
    return root


def make_wild_subset(root: Path, data_dir: Path, photos: list[str]) -> Path:
    """A data directory holding only the named photos of wild-faces-68 and their faces (images symlinked)."""
    target = root / "wild-faces-68"
    (target / "images").mkdir(parents=True)
    table = pd.read_csv(data_dir / "wild-faces-68" / "landmarks68.csv")
    table[table["image"].isin(photos)].to_csv(target / "landmarks68.csv", index=False)
    for name in photos:
        (target / "images" / name).symlink_to((data_dir / "wild-faces-68" / "images" / name).resolve())
    return root


@pytest.fixture(scope="session")
def heldout_rows(youtube_table: pd.DataFrame) -> pd.DataFrame:
    """A dozen frames of held-out (test) people, spread over several people."""
    groups = np.array([person_of(n) for n in youtube_table["image"]])
    test = split_by_person(groups).test
    return youtube_table.iloc[test[np.linspace(0, len(test) - 1, 12).astype(int)]]


@pytest.fixture(scope="session")
def heldout_dir(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, heldout_rows: pd.DataFrame) -> Path:
    """A data directory of only the held-out frames above."""
    return make_youtube_subset(tmp_path_factory.mktemp("heldout"), data_dir, heldout_rows)


@pytest.fixture(scope="session")
def heldout_crops(heldout_dir: Path) -> CropSet:
    """The held-out frames cropped as the pipeline crops them (Haar box, the keypoint crop rule)."""
    return build_crop_set(load_youtube_faces(heldout_dir), HaarFaceDetector(), progress=False)


@pytest.fixture(scope="session")
def training_dir(tmp_path_factory: pytest.TempPathFactory, data_dir: Path, youtube_table: pd.DataFrame) -> Path:
    """A data directory of ~160 frames of ~40 people and 40 wild-faces-68 photos, for quick training runs."""
    groups = np.array([person_of(n) for n in youtube_table["image"]])
    people = sorted(set(groups))[::7]
    rows = youtube_table[np.isin(groups, people)].groupby(groups[np.isin(groups, people)]).head(4)
    root = make_youtube_subset(tmp_path_factory.mktemp("train"), data_dir, rows)
    photos = sorted(pd.read_csv(data_dir / "wild-faces-68" / "landmarks68.csv", usecols=["image"])["image"].unique())
    return make_wild_subset(root, data_dir, photos[::26][:40])


@pytest.fixture()
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the crop cache at a fresh folder."""
    monkeypatch.setenv("FACEXPR_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def copy_file(source: Path, target: Path) -> Path:
    """Copy one file, creating its folder."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target


@pytest.fixture(scope="session")
def fer_csv(data_dir: Path) -> Path:
    """The real FER2013 CSV; skipped with the reason where absent."""
    from facexpr.datadir import FER2013, dataset_file
    from facexpr.errors import DataNotFoundError

    try:
        return dataset_file(FER2013, data_dir)
    except DataNotFoundError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def fer_sample(tmp_path_factory: pytest.TempPathFactory, fer_csv: Path) -> Path:
    """A small real FER2013 CSV: 40 rows of each Usage split, in the original layout."""
    table = pd.read_csv(fer_csv, dtype=str, keep_default_na=False)
    sample = table.groupby("Usage", sort=False).head(40)
    path = tmp_path_factory.mktemp("fer") / "fer2013.csv"
    sample.to_csv(path, index=False)
    return path

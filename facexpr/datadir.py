"""The one data setting: ``--data DIR``, else ``$FACEXPR_DATA``, else ``./data``, and dataset file lookup."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from facexpr.errors import DataNotFoundError

DATA_ENV_VAR = "FACEXPR_DATA"
DEFAULT_DATA_DIR = Path("data")


@dataclass(frozen=True)
class Dataset:
    """Where a dataset's files sit under the data directory and where a user gets them."""

    name: str
    files: tuple[str, ...]  # accepted relative paths, first one preferred
    source: str


FER2013 = Dataset(
    "FER2013",
    ("fer2013/fer2013.csv.gz", "fer2013/fer2013.csv"),
    "Kaggle 'Challenges in Representation Learning: Facial Expression Recognition Challenge' "
    "(https://www.kaggle.com/c/challenges-in-representation-learning-facial-expression-recognition-challenge)",
)
FERPLUS = Dataset(
    "FER+ votes",
    ("fer2013/fer2013new.csv",),
    "https://github.com/microsoft/FERPlus (fer2013new.csv)",
)
YOUTUBE_FACES_KEYPOINTS = Dataset(
    "YouTube-Faces 68-point keypoints",
    ("youtube-faces-keypoints/keypoints68.csv",),
    "https://github.com/udacity/P1_Facial_Keypoints (data/*_frames_keypoints.csv and images); "
    "see data/README.md for the layout",
)
WILD_FACES_68 = Dataset(
    "wild-faces-68 (300-W HELEN train + AFW, 68 points)",
    ("wild-faces-68/landmarks68.csv",),
    "https://github.com/Spinkoo/Face-alignement (helen/trainset, afw/afw); see data/README.md for the layout",
)
KAGGLE_KEYPOINTS = Dataset(
    "Kaggle Facial Keypoints",
    ("facial-keypoints/training.csv", "facial-keypoints/training.csv.gz"),
    "https://www.kaggle.com/c/facial-keypoints-detection (training.zip)",
)


def resolve_data_dir(flag: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the explicit flag, else ``$FACEXPR_DATA``, else ``./data``."""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get(DATA_ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_DATA_DIR


def dataset_file(dataset: Dataset, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The first existing file of ``dataset`` under the data directory, or a clear error naming it."""
    root = resolve_data_dir(data_dir)
    for relative in dataset.files:
        path = root / relative
        if path.is_file():
            return path
    raise DataNotFoundError(
        f"{dataset.name}: expected {root / dataset.files[0]} (data directory {root.resolve()}, "
        f"set by --data, ${DATA_ENV_VAR} or ./data). Get it from {dataset.source}."
    )


CACHE_ENV_VAR = "FACEXPR_CACHE"


def cache_dir() -> Path:
    """Where derived arrays (face crops) are cached: ``$FACEXPR_CACHE``, else ``~/.cache/facexpr``."""
    root = Path(os.environ.get(CACHE_ENV_VAR) or Path.home() / ".cache" / "facexpr").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root

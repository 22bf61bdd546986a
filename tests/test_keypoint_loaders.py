"""Both keypoint loaders on real rows and on malformed ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from facexpr.errors import DataFormatError, DataNotFoundError
from keypoints.constants import KAGGLE_COORD_COLUMNS
from keypoints.crops import build_crop_set
from keypoints.datasets import load_kaggle_keypoints, load_youtube_faces
from tests.conftest import make_youtube_subset


def test_youtube_loader_reads_real_rows(heldout_dir: Path, heldout_rows: pd.DataFrame) -> None:
    samples = load_youtube_faces(heldout_dir)
    assert len(samples) == len(heldout_rows)
    assert samples.keypoints.shape == (len(heldout_rows), 15, 2)
    first = heldout_rows.iloc[0, 1:].to_numpy(float).reshape(68, 2)
    assert np.allclose(samples.keypoints[0, 0], first[42:48].mean(0), atol=1e-4)
    height, width = samples.images[0].shape
    assert samples.images[0].dtype == np.uint8 and height > 50 and width > 50
    assert samples.groups[0] == samples.names[0].rsplit("_", 1)[0]


def _broken_youtube(tmp_path: Path, data_dir: Path, rows: pd.DataFrame) -> Path:
    broken = rows.astype(object)
    broken.iloc[1, 5] = "abc"  # non-numeric coordinate
    broken.iloc[2, 0] = "Nobody_Here_00.png"  # image file missing
    return make_youtube_subset(tmp_path, data_dir, broken)


def test_youtube_loader_reports_bad_rows_by_line_and_name(
    tmp_path: Path, data_dir: Path, heldout_rows: pd.DataFrame
) -> None:
    root = _broken_youtube(tmp_path, data_dir, heldout_rows)
    with pytest.raises(DataFormatError) as error:
        load_youtube_faces(root)
    message = str(error.value)
    assert "2 malformed row(s)" in message
    assert f"line 3 ({heldout_rows.iloc[1, 0]})" in message and "non-numeric" in message
    assert "line 4 (Nobody_Here_00.png)" in message and "not found" in message


def test_youtube_loader_skip_option_counts(
    tmp_path: Path, data_dir: Path, heldout_rows: pd.DataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    root = _broken_youtube(tmp_path, data_dir, heldout_rows)
    samples = load_youtube_faces(root, on_error="skip")
    assert len(samples) == len(heldout_rows) - 2
    assert len(samples.skipped) == 2
    assert "skipped 2 malformed row(s)" in caplog.text


def test_missing_dataset_names_file_and_source(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as error:
        load_youtube_faces(tmp_path)
    assert "youtube-faces-keypoints/keypoints68.csv" in str(error.value)
    assert "udacity/P1_Facial_Keypoints" in str(error.value)
    assert isinstance(error.value, FileNotFoundError)


def kaggle_csv_from(heldout_dir: Path, path: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """A Kaggle-layout CSV (30 coordinates + Image) built from real YouTube-Faces crops, some points missing."""
    from detection.detectors import HaarFaceDetector

    crops = build_crop_set(load_youtube_faces(heldout_dir), HaarFaceDetector(), progress=False)
    coords = crops.keypoints.reshape(len(crops), 30).astype(float)
    coords[0, 4:8] = np.nan  # like Kaggle: some rows have only some keypoints
    table = pd.DataFrame(coords, columns=list(KAGGLE_COORD_COLUMNS))
    table["Image"] = [" ".join(map(str, c.reshape(-1))) for c in crops.crops]
    table.to_csv(path, index=False)
    return path, crops.crops, coords


def test_kaggle_loader_keeps_missing_points_as_nan(tmp_path: Path, heldout_dir: Path) -> None:
    path, crops, coords = kaggle_csv_from(heldout_dir, tmp_path / "training.csv")
    samples = load_kaggle_keypoints(path)
    assert len(samples) == len(crops)
    assert np.array_equal(samples.images[3], crops[3])
    assert np.isnan(samples.keypoints[0, 2:4]).all() and np.isfinite(samples.keypoints[1]).all()
    assert np.allclose(samples.keypoints.reshape(len(crops), 30), coords, equal_nan=True, atol=1e-4)
    whole = build_crop_set(samples, detector=None, progress=False)  # Kaggle faces are already 96x96 crops
    assert np.array_equal(whole.crops, np.stack(samples.images))


def test_kaggle_loader_reports_malformed_rows(tmp_path: Path, heldout_dir: Path) -> None:
    path, _, _ = kaggle_csv_from(heldout_dir, tmp_path / "training.csv")
    table = pd.read_csv(path).astype(object)
    table.loc[1, "Image"] = "1 2 3"
    table.loc[2, "Image"] = table.loc[2, "Image"].replace(" ", " x ", 1)[:-2]
    table.loc[3, "nose_tip_x"] = "oops"
    table.to_csv(path, index=False)
    with pytest.raises(DataFormatError) as error:
        load_kaggle_keypoints(path)
    message = str(error.value)
    assert "line 3: 3 pixel values, expected 9216" in message
    assert "line 4:" in message and "line 5: non-numeric value in nose_tip_x" in message
    samples = load_kaggle_keypoints(path, on_error="skip")
    assert len(samples) == len(table) - 3 and len(samples.skipped) == 3


def test_kaggle_loader_rejects_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    pd.DataFrame({"Image": ["0 0"], "left_eye_center_x": [1.0]}).to_csv(path, index=False)
    with pytest.raises(DataFormatError, match="missing column"):
        load_kaggle_keypoints(path)

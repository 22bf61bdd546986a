"""Expression presets and the FER2013 loader on real and malformed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from expressions.augment import mixup
from expressions.datasets import agreed_with_ferplus, ferplus_majority, ferplus_votes, load_fer2013
from expressions.faces import LabelledFaces
from expressions.presets import FER2013_CLASSES, PRESETS, get_preset
from expressions.train import blended_targets
from facexpr.datadir import FERPLUS, dataset_file
from facexpr.errors import DataFormatError, InvalidInputError


def test_preset_mapping() -> None:
    fer5 = get_preset("fer5")
    assert fer5.classes == ("Angry", "Disgust", "Sad", "Happy", "Surprise")
    assert fer5.from_fer2013[4] == 2  # FER2013 label 4 = Sad is fer5 index 2
    indices, keep = fer5.map_labels(np.array([0, 2, 4, 6, 3]))
    assert keep.tolist() == [True, False, True, False, True]  # Fear and Neutral are dropped from fer5
    assert indices.tolist() == [0, 2, 3]
    assert get_preset("fer7").classes == FER2013_CLASSES
    assert get_preset("fer5-neutral").from_fer2013.tolist() == [0, -1, -1, 1, 2, 3, 4]
    with pytest.raises(InvalidInputError, match="fer5, fer7"):
        get_preset("fer6")
    assert set(PRESETS) == {"fer5", "fer7", "fer5-neutral"}


def test_loader_reads_real_rows(fer_sample: Path, isolated_cache: Path) -> None:
    samples = load_fer2013(fer_sample)
    table = pd.read_csv(fer_sample)
    assert len(samples) == 120 and samples.images.shape == (120, 48, 48) and samples.images.dtype == np.uint8
    assert samples.labels.tolist() == table["emotion"].tolist()
    first = np.array(table["pixels"][0].split(), dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(samples.images[0], first)
    assert set(samples.usage) == {"Training", "PublicTest", "PrivateTest"}
    assert len(samples.split("PrivateTest")) == 40
    assert np.array_equal(load_fer2013(fer_sample).images, samples.images)  # second load comes from the cache


def test_loader_reports_malformed_rows(tmp_path: Path, fer_sample: Path, isolated_cache: Path) -> None:
    table = pd.read_csv(fer_sample, dtype=str, keep_default_na=False)
    table.loc[2, "pixels"] = " ".join(table.loc[2, "pixels"].split()[:100])  # wrong pixel count
    table.loc[5, "pixels"] = table.loc[5, "pixels"].replace(" ", " x7 ", 1).rsplit(" ", 1)[0]  # non-numeric
    table.loc[7, "emotion"] = "9"  # unknown label
    path = tmp_path / "fer2013.csv"
    table.to_csv(path, index=False)
    with pytest.raises(DataFormatError) as error:
        load_fer2013(path)
    message = str(error.value)
    assert "3 malformed row(s)" in message
    assert "line 4: 100 pixel values, expected 2304" in message
    assert "line 7: non-numeric pixel value 'x7'" in message
    assert "line 9: unknown emotion label '9'" in message
    samples = load_fer2013(path, on_error="skip")
    assert len(samples) == 117 and len(samples.skipped) == 3
    assert 2 not in samples.rows and 3 in samples.rows


def test_loader_rejects_wrong_columns(tmp_path: Path) -> None:
    path = tmp_path / "fer.csv"
    path.write_text("label,pixels\n0,1 2 3\n")
    with pytest.raises(DataFormatError, match="missing column"):
        load_fer2013(path)


def test_ferplus_majority_vote() -> None:
    votes = pd.DataFrame(
        [[6, 0, 1, 1, 0, 0, 0, 0, 2, 0], [0, 5, 5, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 1, 9]],
        columns=[
            "neutral",
            "happiness",
            "surprise",
            "sadness",
            "anger",
            "disgust",
            "fear",
            "contempt",
            "unknown",
            "NF",
        ],
    )
    assert ferplus_majority(votes).tolist() == [6, -1, -1]  # Neutral; a tie; not a face


def test_ferplus_votes_blend_into_training_targets(data_dir: Path) -> None:
    votes = ferplus_votes(dataset_file(FERPLUS, data_dir), np.array([0, 0]))
    # fer2013new.csv row 0: neutral 4, happiness 0, surprise 0, sadness 1, anger 3, disgust 2, fear 0
    assert votes[0].tolist() == [3, 2, 0, 0, 1, 0, 4]
    votes[1] = [0, 0, 5, 0, 0, 0, 5]  # only Fear and Neutral votes: nothing to share among fer5's classes
    faces = LabelledFaces(np.zeros((2, 48, 48), np.uint8), np.array([0, 3]), np.array([0, 0]), "Training")
    fer5 = get_preset("fer5")
    targets = blended_targets(faces, fer5, votes, mix=0.5)
    np.testing.assert_allclose(targets[0], [0.75, 1 / 6, 1 / 12, 0, 0], rtol=1e-6)  # Angry, Disgust, Sad, ...
    np.testing.assert_array_equal(targets[1], np.eye(5)[3])
    np.testing.assert_array_equal(blended_targets(faces, fer5, votes, mix=0.0), np.eye(5)[[0, 3]])
    with pytest.raises(InvalidInputError, match="ferplus_mix"):
        blended_targets(faces, fer5, votes, mix=1.5)


def test_mixup_blends_faces_targets_and_weights_alike() -> None:
    classes = np.arange(8)
    images = np.broadcast_to(10.0 * classes[:, None, None, None], (8, 4, 4, 1)).astype(np.float32)
    targets, weights = np.eye(8, dtype=np.float32)[classes], (1.0 + classes).astype(np.float32)
    mixed, soft, weighted = mixup(images, targets, weights, 0.4, np.random.default_rng(0))
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(mixed[:, 0, 0, 0], soft @ (10.0 * classes), rtol=1e-5)  # each face weighs as its target
    np.testing.assert_allclose(weighted, soft @ weights, rtol=1e-5)
    assert (soft.max(axis=1) < 0.99).sum() >= 4  # most faces are really blended
    assert np.all(mixed == mixed[:, :1, :1]) and images.shape == mixed.shape
    unchanged = mixup(images, targets, weights, 0.0, np.random.default_rng(0))
    assert all(a is b for a, b in zip(unchanged, (images, targets, weights), strict=True))


def test_agreed_labels_keep_the_faces_ferplus_confirms(fer_sample: Path, data_dir: Path, isolated_cache: Path) -> None:
    training = load_fer2013(fer_sample).split("Training")  # the file's first 40 rows, aligned with fer2013new.csv
    agreed = agreed_with_ferplus(training, dataset_file(FERPLUS, data_dir))
    majority = ferplus_majority(pd.read_csv(dataset_file(FERPLUS, data_dir)))[:40]
    assert 0 < len(agreed) < len(training)
    assert agreed.rows.tolist() == np.flatnonzero(majority == training.labels).tolist()
    assert np.array_equal(agreed.labels, majority[agreed.rows])
    assert 0 not in agreed.rows  # row 0 is Angry in FER2013, but 4 of its FER+ votes say Neutral against 3 for anger
    with pytest.raises(InvalidInputError, match="fer2013, ferplus, agreed"):
        load_fer2013(fer_sample, labels="crowd")

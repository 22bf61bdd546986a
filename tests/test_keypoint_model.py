"""The keypoints model: output shape, a quick real training run that resumes, and the shipped weights."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

import keypoints
from facexpr.datadir import YOUTUBE_FACES_KEYPOINTS
from facexpr.errors import DataFormatError, DataNotFoundError, InvalidInputError
from facexpr.modelcard import card_beside
from keypoints.config import KeypointConfig
from keypoints.constants import EYE_CENTRES
from keypoints.datasets import person_of
from keypoints.evaluate import evaluate_run, parse_label_offset, split_crops
from keypoints.export import export_run
from keypoints.geometry import mirror_keypoints
from keypoints.inference import MODEL_FILE, KeypointModel, config_for, load_model
from keypoints.metrics import keypoint_metrics, rmse_difference_interval, rmse_interval
from keypoints.model import build_model
from keypoints.split import split_by_person
from keypoints.train import QUICK_VAL, train
from pipeline.cli import main


def test_model_output_shape() -> None:
    model = build_model(KeypointConfig())
    out = model(np.zeros((2, 96, 96, 1), dtype=np.float32))
    assert tuple(out.shape) == (2, 30)


def test_config_round_trips(tmp_path: Path) -> None:
    config = KeypointConfig(epochs=3, stage_filters=(8, 16), blocks_per_stage=(1, 2))
    config.save(tmp_path / "config.json")
    assert KeypointConfig.load(tmp_path / "config.json") == config


def test_metrics_report_a_constant_offset_as_bias() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 76, size=(8, 15, 2))
    truth[0, 3] = np.nan  # a missing point is left out, not counted as an error
    overall, table = keypoint_metrics(truth + [1.0, -0.5], truth)
    assert overall["bias_x_px"] == pytest.approx(1.0) and overall["bias_y_px"] == pytest.approx(-0.5)
    assert overall["rmse_px"] == pytest.approx(np.sqrt((1.0 + 0.25) / 2))
    assert np.allclose(table["bias_x_px"], 1.0) and overall["points"] == 8 * 15 - 1


def test_rmse_interval_resamples_people() -> None:
    rng = np.random.default_rng(1)
    truth = rng.uniform(20, 76, size=(60, 15, 2))
    predicted = truth + rng.normal(0.0, 1.5, truth.shape)
    people = np.repeat(np.arange(12), 5)
    rmse = keypoint_metrics(predicted, truth)[0]["rmse_px"]
    low, high = rmse_interval(predicted, truth, people)
    assert low < rmse < high and high - low < 0.5
    predicted[:5] += 6.0  # one person read badly: whether a resample draws them decides much, so it widens
    low_bad, high_bad = rmse_interval(predicted, truth, people)
    assert high_bad - low_bad > 3 * (high - low) and low_bad < keypoint_metrics(predicted, truth)[0]["rmse_px"]
    # The same faces counted as one person each: the faces are no longer tied to the one bad person, so it narrows.
    narrow = rmse_interval(predicted, truth, np.arange(60))
    assert narrow[1] - narrow[0] < high_bad - low_bad
    with pytest.raises(InvalidInputError, match="two or more people"):
        rmse_interval(predicted, truth, np.zeros(60))
    with pytest.raises(InvalidInputError, match="one person per face is needed: 12 for 60 faces"):
        rmse_interval(predicted, truth, np.arange(12))


def test_rmse_difference_interval_tells_a_better_model_over_people() -> None:
    rng = np.random.default_rng(0)
    truth = rng.uniform(20, 70, (60, 15, 2))
    people = np.repeat(np.arange(12), 5)
    worse = truth + rng.normal(0, 2.0, truth.shape)
    better = truth + rng.normal(0, 1.0, truth.shape)
    low, high = rmse_difference_interval(worse, better, truth, people)
    assert low < high < 0  # b better on every person: the whole interval lies below zero
    assert 0 < rmse_difference_interval(better, worse, truth, people)[0]
    same = rmse_difference_interval(worse, worse + rng.normal(0, 0.01, truth.shape), truth, people)
    assert same[0] < 0 < same[1]  # models that differ by noise: no difference the people can tell


@pytest.mark.slow
def test_quick_training_run_learns_and_resumes(tmp_path: Path, training_dir: Path, isolated_cache: Path) -> None:
    config = KeypointConfig(epochs=1, batch_size=16, stage_filters=(16, 32, 64))
    run = tmp_path / "run"
    result = train(config, run, data_dir=training_dir, quick=True)
    for name in ("best.keras", "last.keras", "log.csv", "curves.png", "config.json", "state.json"):
        assert (run / name).is_file(), name
    assert result.state["epoch"] == 1
    assert not set(result.crops.groups[result.split.test]) & set(result.crops.groups[result.split.train])
    chosen = KeypointModel.trained_with(keras.models.load_model(run / "best.keras", compile=False), config)
    val = result.split.val[:QUICK_VAL]
    mirror_mse = np.nanmean(np.square(chosen.predict(result.crops.crops[val]) - result.crops.keypoints[val]))
    assert result.state["best"] == pytest.approx(mirror_mse, rel=1e-4)  # chosen on the mirror-averaged reading
    first_loss = float(np.loadtxt(run / "log.csv", delimiter=",", skiprows=1, ndmin=2)[0, 1])
    resumed = train(config.replace(epochs=2), run, data_dir=training_dir, quick=True)
    assert resumed.state["epoch"] == 2
    log = np.loadtxt(run / "log.csv", delimiter=",", skiprows=1, ndmin=2)
    assert len(log) == 2 and np.isfinite(log).all() and float(log[0, 1]) == first_loss
    assert any(isolated_cache.glob("youtube-crops-*.npz"))  # crops are cached for the next run
    # a fine-tuning stage on YouTube-Faces and wild-faces-68 together, each split by its own people or photos
    both = config.replace(init_from=str(run / "best.keras"), faces=("youtube", "wild"))
    tuned = train(both, tmp_path / "tuned", data_dir=training_dir, quick=True)
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["init_from"].endswith("best.keras")
    assert tuned.state["epoch"] == 1 and set(tuned.face_sets) == {"youtube", "wild"}
    wild = tuned.face_sets == "wild"
    parts = [
        set(tuned.crops.groups[np.intersect1d(rows, np.flatnonzero(wild))])
        for rows in (tuned.split.train, tuned.split.test)
    ]
    assert parts[0] and parts[1] and not parts[0] & parts[1]  # no photo both trained on and held out
    assert set(evaluate_run(tuned, tmp_path / "tuned" / "evaluation")) == {"youtube", "wild"}
    assert (tmp_path / "tuned" / "evaluation" / "wild" / "metrics.json").is_file()
    assert (
        main(
            [
                "keypoints",
                "compare",
                str(tmp_path / "tuned" / "best.keras"),
                "--against",
                str(run / "best.keras"),
                "--data",
                str(training_dir),
                "--faces",
                "wild",
                "--out",
                str(tmp_path / "compare.json"),
            ]
        )
        == 0
    )
    compared = json.loads((tmp_path / "compare.json").read_text())
    assert compared["a"]["faces"] == compared["b"]["faces"] > 0 and len(compared["rmse_difference_ci95"]) == 2
    # the exported card holds the held-out people read three ways: as the pipeline reads them (mirror-averaged,
    # read again re-aligned), the first mirror-averaged read alone, and each face read once
    weights = tmp_path / "weights"
    card = export_run(run, "facexpr keypoints train --quick", training_dir, weights / "k.keras", weights / "card.json")
    network, test = keras.models.load_model(weights / "k.keras", compile=False), split_crops(config, training_dir)
    reader = KeypointModel.trained_with(network, config)
    readings = {
        "heldout_people_single_read": KeypointModel(network, tta=False).predict(test.crops, test.context),
        "heldout_people_first_read": reader.predict(test.crops),
    }
    for key, points in readings.items():
        expected = keypoint_metrics(points, test.keypoints)[0]["rmse_px"]
        assert card["metrics"][key]["rmse_px"] == pytest.approx(expected, rel=1e-4)
    twice = keypoint_metrics(reader.predict(test.crops, test.context), test.keypoints)[0]["rmse_px"]
    assert card["metrics"]["heldout_people"]["overall"]["rmse_px"] == pytest.approx(twice, rel=1e-4)
    assert not {"single_read", "first_read"} & set(card["metrics"]["heldout_people"])
    wild = split_crops(config, training_dir, faces="wild")
    assert card["metrics"]["heldout_wild_photos"]["overall"]["faces"] == len(wild) > 0


def test_loaded_model_mirrors_with_its_configs_offset(tmp_path: Path) -> None:
    config = KeypointConfig(stage_filters=(8, 16), blocks_per_stage=(1, 1), label_offset_px=0.7)
    build_model(config).save(tmp_path / "best.keras")
    config.save(tmp_path / "config.json")
    assert load_model(str(tmp_path / "best.keras"), tta=True).label_offset == pytest.approx(0.7)


def test_a_model_without_its_config_reads_with_defaults_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    build_model(KeypointConfig(stage_filters=(8, 16), blocks_per_stage=(1, 1))).save(tmp_path / "alone.keras")
    with caplog.at_level("WARNING", logger="facexpr"):
        assert load_model(str(tmp_path / "alone.keras")).label_offset == 0.0
    assert "no config.json beside it" in caplog.text


def test_label_offset_comes_from_a_number_or_a_training_evaluation(tmp_path: Path) -> None:
    assert parse_label_offset("0.9") == 0.9
    names = keypoints.KEYPOINT_NAMES[::-1]
    table = pd.DataFrame({"keypoint": names, "mirror_habit_x_px": np.arange(15.0), "mirror_habit_y_px": 0.5})
    table.to_csv(tmp_path / "per_keypoint.csv", index=False)
    offsets = parse_label_offset(str(tmp_path / "per_keypoint.csv"))
    assert offsets[0] == (14.0, 0.5) and offsets[14] == (0.0, 0.5)  # in keypoint order
    KeypointConfig(label_offset_px=offsets).save(tmp_path / "config.json")
    assert parse_label_offset(str(tmp_path / "config.json")) == offsets  # a model's own, e.g. the shipped one's
    table.drop(columns="mirror_habit_y_px").to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(DataFormatError, match="mirror_habit_y_px"):
        parse_label_offset(str(tmp_path / "bad.csv"))
    with pytest.raises(DataNotFoundError, match="neither a number nor a file"):
        parse_label_offset(str(tmp_path / "absent.csv"))


def test_evaluate_reads_the_chosen_part_of_the_person_split(
    tmp_path: Path, training_dir: Path, isolated_cache: Path
) -> None:
    from pipeline.cli import main

    config = config_for(MODEL_FILE)
    groups = np.array(
        [person_of(name) for name in pd.read_csv(training_dir / YOUTUBE_FACES_KEYPOINTS.files[0])["image"]]
    )
    split = split_by_person(groups, config.test_fraction, config.val_fraction, config.split_seed)
    for part in ("val", "train"):
        out = tmp_path / part
        assert main(["keypoints", "evaluate", "--data", str(training_dir), "--split", part, "--out", str(out)]) == 0
        overall = json.loads((out / "metrics.json").read_text())["overall"]
        assert overall["faces"] == len(getattr(split, part)) and np.isfinite(overall["bias_x_px"])
        table = pd.read_csv(out / "per_keypoint.csv")
        assert np.isfinite(table[["mirror_habit_x_px", "mirror_habit_y_px"]].to_numpy()).all()


def test_shipped_model_predicts_heldout_faces(heldout_crops) -> None:
    assert MODEL_FILE.is_file(), "the shipped keypoints weights are missing from the package"
    predicted = keypoints.predict(heldout_crops.crops)
    assert predicted.shape == (len(heldout_crops), 15, 2) and predicted.dtype == np.float32
    overall, _ = keypoint_metrics(predicted, heldout_crops.keypoints)
    assert overall["rmse_px"] < 3.5, overall  # the full held-out RMSE is in the model card
    as_float = keypoints.predict(heldout_crops.crops[..., None].astype(np.float32) / 255.0)
    assert np.allclose(as_float, predicted, atol=1e-3)


def test_model_card_matches_shipped_weights() -> None:
    card = json.loads(card_beside(MODEL_FILE).read_text())
    from facexpr.checksum import sha256_file

    assert card["model_sha256"] == sha256_file(MODEL_FILE)
    assert card["metrics"]["heldout_people"]["overall"]["rmse_px"] > 0
    assert card["training_command"].startswith("facexpr keypoints train")
    assert len(card["data"][0]["sha256"]) == 64


@pytest.mark.parametrize(
    ("faces", "message"),
    [
        (None, "is None"),
        (np.zeros((96, 96), np.uint8), "wrap a single face"),
        (np.zeros((2, 64, 64), np.uint8), "must be 96x96"),
        (np.zeros((2, 96, 96, 3), np.uint8), "must be gray"),
        (np.zeros((2, 96, 96), bool), "dtype bool"),
        (np.full((1, 96, 96), np.nan, np.float32), "NaN"),
        (np.full((1, 96, 96), 300.0), "0..255"),
        ("face.png", "NumPy array"),
    ],
)
def test_predict_rejects_bad_batches(faces: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        keypoints.predict(faces)  # type: ignore[arg-type]


def test_mirror_averaging_keeps_each_faces_own_habit() -> None:
    network = build_model(KeypointConfig(stage_filters=(8, 16), blocks_per_stage=(1, 1)))
    config = KeypointConfig(faces=("youtube", "wild"), label_offset_px=1.2, label_offset_faces=("youtube",))
    reader = KeypointModel.trained_with(network, config)
    assert reader.per_face_habit
    features = np.random.default_rng(4).uniform(20, 76, (2, 15, 2)).astype(np.float32)
    habit = np.array([1.2, 0.0], dtype=np.float32)
    # a network that reads the habit into the first face (a video frame) and not into the second (a photo)
    strength = np.array([1.0, 0.0], dtype=np.float32)[:, None, None]
    points = features + strength * habit
    points_on_mirror = mirror_keypoints(features, 96) + strength * habit
    assert np.allclose(reader.average_mirror(points, points_on_mirror), points, atol=1e-4)
    fixed = KeypointModel(network, label_offset=1.2).average_mirror(points, points_on_mirror)
    assert np.abs(fixed[1] - points[1]).max() > 1.0  # one habit for every face moves the photo's points


def test_the_eyes_that_align_faces_keep_one_habit_for_every_face() -> None:
    network = build_model(KeypointConfig(stage_filters=(8, 16), blocks_per_stage=(1, 1)))
    faces = np.random.default_rng(5).integers(0, 256, (3, 96, 96), dtype=np.uint8)
    varying = KeypointModel.trained_with(
        network, KeypointConfig(faces=("youtube", "wild"), label_offset_px=1.2, label_offset_faces=("youtube",))
    )
    points, eyes = varying.predict_with_eyes(faces)
    np.testing.assert_allclose(points, varying.predict(faces), atol=1e-4)
    one_habit = KeypointModel(network, label_offset=1.2).predict(faces)
    np.testing.assert_allclose(eyes, one_habit[:, list(EYE_CENTRES)], atol=1e-4)
    same = KeypointModel(network, label_offset=1.2)
    np.testing.assert_allclose(same.predict_with_eyes(faces)[1], one_habit[:, list(EYE_CENTRES)], atol=1e-4)


def test_each_faces_habit_reads_an_empty_batch() -> None:
    network = build_model(KeypointConfig(stage_filters=(8, 16), blocks_per_stage=(1, 1)))
    config = KeypointConfig(faces=("youtube", "wild"), label_offset_px=1.2, label_offset_faces=("youtube",))
    points, eyes = KeypointModel.trained_with(network, config).predict_with_eyes(np.zeros((0, 96, 96), np.uint8))
    assert points.shape == (0, 15, 2) and eyes.shape == (0, 2, 2)

"""Calibrated confidence and no label for faces that show none of the preset's classes: the temperature maths, the
shipped readings and how predict, annotate and drawing carry a face without a label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import expressions
import pipeline
from expressions.calibrate import calibrate
from expressions.calibration import ece_if_calibrated, expected_calibration_error, fit_temperature
from expressions.datasets import load_fer2013
from expressions.inference import reading_file, shipped_presets
from expressions.presets import FER2013_CLASSES
from expressions.reading import Reading, with_temperature
from facexpr.checksum import sha256_file
from facexpr.datadir import FER2013, dataset_file
from facexpr.errors import DataNotFoundError, InvalidInputError
from pipeline.cli import main
from pipeline.draw import draw
from pipeline.faces import Face
from pipeline.sample import sample_photo


def test_temperature_keeps_the_ranking_and_sharpens_below_one() -> None:
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    assert with_temperature(probs, 1.0) is probs
    sharp, soft = with_temperature(probs, 0.5), with_temperature(probs, 2.0)
    for scaled in (sharp, soft):
        assert np.allclose(scaled.sum(axis=1), 1) and np.array_equal(scaled.argmax(axis=1), probs.argmax(axis=1))
    assert (sharp.max(axis=1) > probs.max(axis=1)).all() and (soft.max(axis=1) < probs.max(axis=1)).all()
    with pytest.raises(InvalidInputError, match="temperature must be > 0"):
        with_temperature(probs, 0.0)


def test_fitting_finds_the_temperature_that_made_overconfident_probabilities() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=2.0, size=(4000, 5))
    truth = np.array([rng.choice(5, p=np.exp(row) / np.exp(row).sum()) for row in logits])
    calibrated = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)  # the truth was drawn from these
    overconfident = with_temperature(calibrated, 0.5)
    assert fit_temperature(overconfident, truth) == pytest.approx(2.0, rel=0.1)
    assert expected_calibration_error(calibrated, truth) < expected_calibration_error(overconfident, truth)


def test_the_ece_a_calibrated_reading_would_show_brackets_a_calibrated_one_and_not_an_overconfident_one() -> None:
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=2.0, size=(2000, 5))
    calibrated = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(5, p=row) for row in calibrated])
    floor, spread = ece_if_calibrated(calibrated, draws=200)
    assert 0.005 < floor < 0.05 and spread > 0
    assert abs(expected_calibration_error(calibrated, truth) - floor) < 4 * spread
    assert expected_calibration_error(with_temperature(calibrated, 0.5), truth) > floor + 4 * spread
    assert ece_if_calibrated(np.eye(5)[truth], draws=20) == (0.0, 0.0)  # certain and calibrated: no sampling error


@pytest.mark.parametrize("preset", shipped_presets())
def test_each_shipped_preset_has_a_reading_fitted_on_public_test(preset: str, data_dir: Path) -> None:
    saved = json.loads(reading_file(preset).read_text())
    assert saved["fitted_on"] == "PublicTest" and saved["data"]["sha256"] == sha256_file(
        dataset_file(FER2013, data_dir)
    )
    assert 0.2 < saved["temperature"] < 5
    reading = Reading.load(reading_file(preset))
    assert (reading.abstain_class is None) == ("Neutral" in expressions.get_preset(preset).classes)
    assert expressions.load_model(preset).temperature == reading.temperature


def test_neutral_faces_mostly_get_no_fer5_label_and_their_probabilities_stay(data_dir: Path) -> None:
    private = load_fer2013(data_dir=data_dir).split("PrivateTest")
    neutral = private.images[private.labels == FER2013_CLASSES.index("Neutral")][:200]
    happy = private.images[private.labels == FER2013_CLASSES.index("Happy")][:200]
    labels, probs = expressions.predict(neutral, preset="fer5")
    forced, forced_probs = expressions.predict(neutral, preset="fer5", abstain=False)
    assert np.mean([label is None for label in labels]) > 0.5 and None not in forced
    assert np.array_equal(probs, forced_probs)  # abstaining withholds the label, never changes the probabilities
    happy_labels, _ = expressions.predict(happy, preset="fer5")
    assert np.mean([label == "Happy" for label in happy_labels]) > 0.8


def test_the_abstainer_reads_both_framings_of_an_aligned_face(data_dir: Path) -> None:
    model = expressions.load_model("fer5")
    assert model.aligned and model.abstainer is not None and model.abstainer.both_framings
    aligned, framed = (load_fer2013(data_dir=data_dir, aligned=a).split("PublicTest") for a in (True, False))
    neutral = aligned.labels == FER2013_CLASSES.index("Neutral")
    faces, plain = aligned.images[neutral][:64], framed.images[neutral][:64]
    abstainer = model.abstainer
    both = abstainer.scores(faces, plain)
    np.testing.assert_allclose(both, (abstainer.scores(faces) + abstainer.scores(plain)) / 2, atol=1e-5)
    labels, probs = model.predict(faces, framed=plain)
    assert [label is None for label in labels] == list(both > abstainer.threshold)
    assert np.array_equal(probs, model.predict(faces)[1])  # the framing changes the abstainer only
    with pytest.raises(InvalidInputError, match="64 faces but 3 framed faces"):
        abstainer.scores(faces, plain[:3])


def test_a_face_without_a_label_is_drawn_and_written_as_neutral_or_other() -> None:
    photo = sample_photo()
    found = pipeline.annotate(photo).faces[0]
    unlabelled = Face(found.box, found.score, found.keypoints, None, found.probabilities)
    assert np.isnan(unlabelled.confidence)
    written = json.loads(json.dumps(unlabelled.to_dict(), allow_nan=False))  # valid JSON: no NaN
    assert written["label"] is None and written["confidence"] is None
    drawn = draw(photo, [unlabelled])
    assert not np.array_equal(drawn, draw(photo, [unlabelled], labels=False))  # its box carries NO_LABEL's text
    assert not np.array_equal(drawn, draw(photo, [found]))
    assert pipeline.annotate(photo, abstain=False).faces[0].label in expressions.get_preset("fer5").classes


def test_calibrate_reproduces_the_shipped_fer5_reading(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "fer5.reading.json"
    shipped = Reading.load(reading_file("fer5"))
    args = ["expressions", "calibrate", "--preset", "fer5", "--data", str(data_dir), "--out", str(out)]
    assert main([*args, "--abstainer", str(shipped.abstain_network)]) == 0
    fitted = Reading.load(out)
    assert fitted.abstain_network == shipped.abstain_network and fitted.abstain_both_framings
    assert fitted.abstain_class == shipped.abstain_class == "Neutral"
    assert fitted.temperature == pytest.approx(shipped.temperature, abs=1e-6)
    assert fitted.abstain_threshold == pytest.approx(shipped.abstain_threshold, abs=1e-6)
    measured = json.loads(out.read_text())["measured_on_fit_split"]
    assert measured["kept_correct"] >= 0.92 and measured["ece_calibrated"] < measured["ece_network"]
    with pytest.raises(DataNotFoundError, match="no abstaining network"):
        calibrate("fer5", data_dir, out=tmp_path / "other.json", abstainer="nowhere.tflite")

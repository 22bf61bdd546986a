"""The LiteRT runtime reads as Keras does: each shipped network gives nearly the same keypoints, probabilities and
labels from its ``.tflite`` file (int8 weights for the expression and keypoint networks) as from its ``.keras``
weights, its card's report accuracy, and the cards name both files and how the LiteRT file holds its weights."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import expressions
import keypoints
from detection.cnn_detector import MODEL_FILE as DETECTOR_FILE
from expressions.datasets import load_fer2013
from expressions.evaluate import evaluate_model_file
from expressions.faces import preset_faces
from expressions.inference import (
    abstainer_file,
    read_card,
    reading_file,
    serving_weights,
    shipped_network_file,
    shipped_presets,
)
from expressions.presets import get_preset
from expressions.reading import Reading
from facexpr.checksum import sha256_file
from facexpr.errors import InvalidInputError
from facexpr.litert import KEPT_SHAPES, LITERT_WEIGHTS, LiteRTNetwork, weight_format
from facexpr.modelcard import card_beside
from facexpr.networks import read_network
from keypoints.crops import CropSet
from keypoints.inference import MODEL_FILE
from pipeline.cli import main as pipeline_main

SHIPPED = shipped_presets()
CARDS = [card_beside(file) for file in dict.fromkeys((MODEL_FILE, DETECTOR_FILE, *map(serving_weights, SHIPPED)))]
#: The cards whose LiteRT files stay float32: fer7 read PrivateTest worse in int8, the detector slower.
FLOAT32_CARDS = {"fer7.card.json", "detector.card.json"}


@pytest.mark.parametrize("card", CARDS, ids=lambda card: card.name)
def test_cards_name_the_litert_file_beside_the_keras_weights(card: Path) -> None:
    written = json.loads(card.read_text())
    litert = card.parent / written["litert_file"]
    assert litert.suffix == ".tflite" and litert.stem == Path(written["model_file"]).stem
    assert written["litert_sha256"] == sha256_file(litert)
    expected = "float32" if card.name in FLOAT32_CARDS else "int8"
    assert written["litert_weights"] == weight_format(litert) == expected
    assert litert.stat().st_size < 20 * 2**20


def test_shipped_models_run_on_litert() -> None:
    assert isinstance(keypoints.load_model().network, LiteRTNetwork)
    assert all(isinstance(expressions.load_model(preset).network, LiteRTNetwork) for preset in SHIPPED)


def test_litert_keypoints_match_keras_on_real_faces(heldout_crops: CropSet) -> None:
    lite = keypoints.predict(heldout_crops.crops)
    keras_points = keypoints.load_model(str(MODEL_FILE)).predict(heldout_crops.crops)
    # int8 weights move a point by hundredths of a pixel of the 96x96 crop (validation RMSE unchanged, docs/models.md)
    assert np.abs(lite - keras_points).mean() < 0.05 and np.abs(lite - keras_points).max() < 0.5


@pytest.mark.parametrize("preset", SHIPPED)
def test_litert_expressions_match_keras_on_real_faces(preset: str, data_dir: Path) -> None:
    faces = preset_faces(load_fer2013(data_dir=data_dir), get_preset(preset), "PrivateTest", 48)
    chosen = faces.images[np.linspace(0, len(faces.targets) - 1, 400).astype(int)]
    # Both networks as they read (a model named by its file gets no calibration and no abstention).
    lite_labels, lite = expressions.load_model(preset, str(shipped_network_file(preset))).predict(chosen)
    keras_labels, keras_probs = expressions.load_model(preset, str(serving_weights(preset))).predict(chosen)
    # int8 weights move a probability by at most ~0.02 here, and change the label of at most 1% of the faces
    assert np.abs(lite - keras_probs).max() < 0.05 and np.abs(lite - keras_probs).mean() < 0.01
    assert np.mean(np.array(lite_labels) != np.array(keras_labels)) <= 0.01


@pytest.mark.parametrize("preset", SHIPPED)
def test_shipped_report_accuracy_is_the_cards_on_litert(preset: str, data_dir: Path, tmp_path: Path) -> None:
    report = evaluate_model_file(preset, None, tmp_path, data_dir=data_dir, split="PrivateTest", progress=False)
    assert report["accuracy"] == pytest.approx(read_card(preset)["metrics"]["PrivateTest"]["accuracy"], abs=1e-9)
    # The calibrated reading's confidence is nearer its accuracy than the network's own, on faces it was not fitted on.
    assert report["calibration"]["ece"] < report["calibration"]["ece_network"]
    assert (tmp_path / "reliability.png").is_file()
    if "Neutral" not in get_preset(preset).classes:  # the trade-off of leaving faces without a label
        kept = report["abstention"]["at_threshold"]["kept_correct"]
        assert 0.9 < kept < 1 and report["abstention"]["at_threshold"]["Neutral_unlabelled"] > 0.5
        assert (tmp_path / "abstention.png").is_file() and (tmp_path / "abstention.csv").is_file()


def test_a_keras_model_without_tensorflow_says_to_install_the_training_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "facexpr.modelfile", None)  # as if Keras were not installed
    with pytest.raises(InvalidInputError, match=r"facexpr\[train\]"):
        read_network(MODEL_FILE, "keypoints model", "")


def test_a_file_that_is_not_a_litert_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.tflite"
    bad.write_bytes(b"not a flatbuffer")
    with pytest.raises(InvalidInputError, match="not a readable keypoints model"):
        read_network(bad, "keypoints model", "")


def test_export_writes_the_weights_asked_for(tmp_path: Path) -> None:
    import keras

    from facexpr.modelfile import export_litert, write_litert_beside

    # the converter leaves tensors under 1024 weights in float32: the second convolution has 18,432
    layers = [keras.layers.Conv2D(64, 3), keras.layers.Conv2D(32, 3), keras.layers.GlobalAveragePooling2D()]
    model = keras.Sequential([keras.Input((16, 16, 1)), *layers])
    batch = np.random.default_rng(0).uniform(0, 1, (4, 16, 16, 1)).astype(np.float32)
    for weights, tolerance in zip(LITERT_WEIGHTS, (0.05, 1e-5), strict=True):
        network = LiteRTNetwork(export_litert(model, tmp_path / f"{weights}.tflite", weights))
        assert weight_format(network.path) == weights
        np.testing.assert_allclose(network(batch), keras.ops.convert_to_numpy(model(batch)), atol=tolerance)
    with pytest.raises(InvalidInputError, match="int8, float32"):
        export_litert(model, tmp_path / "int4.tflite", "int4")
    # exported again, a model keeps the format its card names
    model.save(tmp_path / "tiny.keras")
    card = tmp_path / "tiny.card.json"
    card.write_text(json.dumps({"model_file": "tiny.keras", "litert_weights": "float32"}))
    litert, cards = write_litert_beside(tmp_path / "tiny.keras")
    assert cards == [card] and weight_format(litert) == json.loads(card.read_text())["litert_weights"] == "float32"
    # --out writes one model's copy, recorded in no card
    recorded = card.read_text()
    assert pipeline_main(["export-litert", str(tmp_path / "tiny.keras"), "--out", str(tmp_path / "copy.tflite")]) == 0
    assert weight_format(tmp_path / "copy.tflite") == "int8" and card.read_text() == recorded
    assert pipeline_main(["export-litert", "--out", str(tmp_path / "copy.tflite")]) == 2  # names no model


def test_the_abstainers_int8_copy_of_fer7_is_the_export_of_the_shipped_weights(tmp_path: Path) -> None:
    reading = Reading.load(reading_file("fer5"))
    assert reading.abstain_network == "fer7.int8.tflite" and abstainer_file(reading.abstain_network).is_file()
    copy = tmp_path / "fer7.int8.tflite"
    assert pipeline_main(["export-litert", str(serving_weights("fer7")), "--weights", "int8", "--out", str(copy)]) == 0
    assert sha256_file(copy) == sha256_file(abstainer_file(reading.abstain_network))


def test_a_network_read_at_many_shapes_gives_each_shape_its_own_answer(heldout_crops: CropSet) -> None:
    network = keypoints.load_model().network
    counts = range(1, KEPT_SHAPES + 3)  # more batch shapes than are kept allocated
    crops = heldout_crops.crops[: counts[-1], ..., None].astype(np.float32)
    alone = {count: network(crops[:count]) for count in counts}
    for count in (counts[-1], 1, 3, 2, KEPT_SHAPES, 1):
        np.testing.assert_allclose(network(crops[:count]), alone[count], atol=1e-5)

"""The LiteRT runtime reads as Keras does: each shipped network gives the same keypoints, probabilities, labels and
report accuracy from its ``.tflite`` file as from its ``.keras`` weights, and the cards name both files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import expressions
import keypoints
from expressions.datasets import load_fer2013
from expressions.evaluate import evaluate_model_file
from expressions.faces import preset_faces
from expressions.inference import read_card, serving_weights, shipped_network_file, shipped_presets
from expressions.presets import get_preset
from facexpr.checksum import sha256_file
from facexpr.errors import InvalidInputError
from facexpr.litert import KEPT_SHAPES, LiteRTNetwork
from facexpr.modelcard import card_beside
from facexpr.networks import read_network
from keypoints.crops import CropSet
from keypoints.inference import MODEL_FILE

SHIPPED = shipped_presets()
CARDS = [card_beside(MODEL_FILE), *(card_beside(serving_weights(preset)) for preset in SHIPPED)]


@pytest.mark.parametrize("card", CARDS, ids=lambda card: card.name)
def test_cards_name_the_litert_file_beside_the_keras_weights(card: Path) -> None:
    written = json.loads(card.read_text())
    litert = card.parent / written["litert_file"]
    assert litert.suffix == ".tflite" and litert.stem == Path(written["model_file"]).stem
    assert written["litert_sha256"] == sha256_file(litert)
    assert litert.stat().st_size < 20 * 2**20


def test_shipped_models_run_on_litert() -> None:
    assert isinstance(keypoints.load_model().network, LiteRTNetwork)
    assert all(isinstance(expressions.load_model(preset).network, LiteRTNetwork) for preset in SHIPPED)


def test_litert_keypoints_match_keras_on_real_faces(heldout_crops: CropSet) -> None:
    lite = keypoints.predict(heldout_crops.crops)
    keras_points = keypoints.load_model(str(MODEL_FILE)).predict(heldout_crops.crops)
    assert np.abs(lite - keras_points).max() < 0.05  # pixels of the 96x96 crop


@pytest.mark.parametrize("preset", SHIPPED)
def test_litert_expressions_match_keras_on_real_faces(preset: str, data_dir: Path) -> None:
    faces = preset_faces(load_fer2013(data_dir=data_dir), get_preset(preset), "PrivateTest", 48)
    chosen = faces.images[np.linspace(0, len(faces.targets) - 1, 400).astype(int)]
    # Both networks as they read (a model named by its file gets no calibration and no abstention).
    lite_labels, lite = expressions.load_model(preset, str(shipped_network_file(preset))).predict(chosen)
    keras_labels, keras_probs = expressions.load_model(preset, str(serving_weights(preset))).predict(chosen)
    assert np.abs(lite - keras_probs).max() < 1e-3
    assert lite_labels == keras_labels


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


def test_a_network_read_at_many_shapes_gives_each_shape_its_own_answer(heldout_crops: CropSet) -> None:
    network = keypoints.load_model().network
    counts = range(1, KEPT_SHAPES + 3)  # more batch shapes than are kept allocated
    crops = heldout_crops.crops[: counts[-1], ..., None].astype(np.float32)
    alone = {count: network(crops[:count]) for count in counts}
    for count in (counts[-1], 1, 3, 2, KEPT_SHAPES, 1):
        np.testing.assert_allclose(network(crops[:count]), alone[count], atol=1e-5)

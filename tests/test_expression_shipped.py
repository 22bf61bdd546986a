"""The shipped expression models: present in the package, described by their cards, sane on real PrivateTest faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import expressions
from expressions import inference
from expressions.datasets import load_fer2013
from expressions.faces import preset_faces
from expressions.inference import WEIGHTS_DIR, read_card, serving_weights, shipped_presets
from expressions.presets import SEVEN_CLASS_PRESET, get_preset
from facexpr.checksum import sha256_file

SHIPPED = shipped_presets()


def test_default_preset_ships() -> None:
    assert "fer5" in SHIPPED, "the default fer5 expression weights are missing from the package"


@pytest.mark.parametrize("preset", SHIPPED)
def test_card_describes_the_shipped_weights(preset: str) -> None:
    card = read_card(preset)
    weights = serving_weights(preset)
    assert weights.name == card["model_file"] and card["model_sha256"] == sha256_file(weights)
    assert card["training_command"].startswith("facexpr expressions train")
    assert card["config"]["preset"] in (preset, SEVEN_CLASS_PRESET)  # a seven-class network serves every preset
    assert len(card["data"][0]["sha256"]) == 64
    private = card["metrics"]["PrivateTest"]
    assert private["split"] == "PrivateTest" and private["classes"] == list(get_preset(preset).classes)
    assert 0 < private["accuracy"] <= 1 and private["faces"] > 1000
    assert weights.stat().st_size < 20 * 2**20


def test_each_shipped_network_ships_once() -> None:
    files = sorted(WEIGHTS_DIR.glob("*.keras"))
    assert len({sha256_file(f) for f in files}) == len(files), [f.name for f in files]
    named = {read_card(p)["model_file"] for p in SHIPPED}
    assert named == {f.name for f in files}, "every weights file is named by a card, and every card's file ships"


@pytest.mark.parametrize("preset", SHIPPED)
def test_shipped_model_reads_real_private_test_faces(preset: str, data_dir: Path) -> None:
    faces = preset_faces(load_fer2013(data_dir=data_dir), get_preset(preset), "PrivateTest", 48)
    chosen = np.linspace(0, len(faces.targets) - 1, 300).astype(int)
    labels, probs = expressions.predict(faces.images[chosen], preset=preset)
    assert probs.shape == (300, get_preset(preset).num_classes) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    accuracy = np.mean(probs.argmax(axis=1) == faces.targets[chosen])
    assert accuracy > 0.5, accuracy  # far above chance; the full PrivateTest report is in the model card
    assert labels[0] in get_preset(preset).classes


def test_cards_choose_the_weights_that_serve_a_preset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inference, "WEIGHTS_DIR", tmp_path)
    (tmp_path / "fer7.card.json").write_text(json.dumps({"model_file": "fer7.keras"}))
    assert serving_weights("fer5") == tmp_path / "fer7.keras"  # no card: the seven-class model serves it
    (tmp_path / "fer5.card.json").write_text(json.dumps({"model_file": "fer5.keras"}))
    assert serving_weights("fer5") == tmp_path / "fer5.keras"  # its card names five-class weights of its own
    assert serving_weights("fer5-neutral") == tmp_path / "fer7.keras"
    assert inference.shipped_presets() == ["fer5", "fer7"]


@pytest.mark.skipif("fer7" not in SHIPPED, reason="no seven-class expression model is shipped")
def test_shipped_seven_class_model_serves_fer5_neutral() -> None:
    model = expressions.load_model("fer5-neutral")
    assert model.classes == get_preset("fer5-neutral").classes and model.network.output_shape[-1] == 7


def test_a_model_read_without_its_config_is_read_unaligned_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = inference.shipped_network_file("fer5")
    assert inference.is_aligned(shipped)  # the shipped fer5 reads aligned faces, as its config says
    copy = tmp_path / "fer5.tflite"
    copy.write_bytes(shipped.read_bytes())
    with caplog.at_level("WARNING", logger="facexpr"):
        assert not inference.is_aligned(copy)
    assert "no config" in caplog.text and "read unaligned" in caplog.text

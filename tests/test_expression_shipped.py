"""The shipped expression models: present in the package, described by their cards, sane on real PrivateTest faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import expressions
from expressions import inference
from expressions.datasets import load_fer2013
from expressions.inference import serving_weights, weights_file
from expressions.presets import PRESETS, SEVEN_CLASS_PRESET, get_preset
from expressions.train import preset_faces
from pipeline.checksum import sha256_file

SHIPPED = [name for name in PRESETS if weights_file(name).is_file()]


def test_default_preset_ships() -> None:
    assert "fer5" in SHIPPED, "the default fer5 expression weights are missing from the package"


@pytest.mark.parametrize("preset", SHIPPED)
def test_card_describes_the_shipped_weights(preset: str) -> None:
    card = json.loads(weights_file(preset).with_suffix(".card.json").read_text())
    assert card["model_sha256"] == sha256_file(weights_file(preset))
    assert card["training_command"].startswith("facexpr expressions train")
    assert card["config"]["preset"] in (preset, SEVEN_CLASS_PRESET)  # a seven-class network serves every preset
    assert len(card["data"][0]["sha256"]) == 64
    private = card["metrics"]["PrivateTest"]
    assert private["split"] == "PrivateTest" and private["classes"] == list(get_preset(preset).classes)
    assert 0 < private["accuracy"] <= 1 and private["faces"] > 1000
    assert weights_file(preset).stat().st_size < 20 * 2**20


@pytest.mark.parametrize("preset", SHIPPED)
def test_shipped_model_reads_real_private_test_faces(preset: str, data_dir: Path) -> None:
    faces = preset_faces(load_fer2013(data_dir=data_dir), get_preset(preset), "PrivateTest", 48)
    chosen = np.linspace(0, len(faces.targets) - 1, 300).astype(int)
    labels, probs = expressions.predict(faces.images[chosen], preset=preset)
    assert probs.shape == (300, get_preset(preset).num_classes) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    accuracy = np.mean(probs.argmax(axis=1) == faces.targets[chosen])
    assert accuracy > 0.5, accuracy  # far above chance; the full PrivateTest report is in the model card
    assert labels[0] in get_preset(preset).classes


def test_a_preset_without_weights_is_served_by_the_seven_class_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inference, "WEIGHTS_DIR", tmp_path)
    for name in ("fer5", "fer7"):
        (tmp_path / f"{name}.keras").touch()
    assert serving_weights("fer5") == tmp_path / "fer5.keras"
    assert serving_weights("fer5-neutral") == tmp_path / "fer7.keras"


@pytest.mark.skipif("fer7" not in SHIPPED, reason="no seven-class expression model is shipped")
def test_shipped_seven_class_model_serves_fer5_neutral() -> None:
    model = expressions.load_model("fer5-neutral")
    assert model.classes == get_preset("fer5-neutral").classes and model.network.output_shape[-1] == 7

"""Shipping weights: inference-only files, and an identical model is not re-written (no churn in git)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from facexpr.modelfile import export_weights


def small_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_identical_model_leaves_the_file_alone_and_a_changed_one_replaces_it(tmp_path: Path) -> None:
    model, path = small_model(), tmp_path / "m.keras"
    export_weights(model, path)
    before = path.read_bytes()
    assert not keras.models.load_model(path).compiled  # inference only: no optimizer state
    export_weights(keras.models.load_model(path), path)
    assert path.read_bytes() == before
    model.set_weights([w + 1.0 for w in model.get_weights()])
    export_weights(model, path)
    assert path.read_bytes() != before
    np.testing.assert_array_equal(keras.models.load_model(path).get_weights()[0], model.get_weights()[0])

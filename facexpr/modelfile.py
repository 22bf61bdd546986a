"""Saved Keras models: read with clear errors (a missing file, or one that is not a Keras model), written for
inference only, and exported as the LiteRT files the runtime reads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import keras
import numpy as np

from facexpr.atomic import write_atomic
from facexpr.errors import DataNotFoundError, InvalidInputError
from facexpr.litert import LITERT_WEIGHTS
from facexpr.modelcard import kept_litert_weights, record_litert
from facexpr.quiet import stderr_silenced


def read_model(path: str | os.PathLike[str], what: str, hint: str) -> keras.Model:
    """The uncompiled network saved at ``path``; ``what`` names it in errors and ``hint`` says where to get one."""
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"{what} not found: {file}. {hint}")
    try:
        return keras.models.load_model(file, compile=False)
    except (ValueError, OSError) as error:  # what Keras raises for a non-model, a truncated zip or a bad .h5
        raise InvalidInputError(
            f"{file}: not a readable {what} (expected a Keras 3 .keras file, or a legacy .h5)"
        ) from error


def export_weights(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` for inference only (no optimizer state, so the file stays small), atomically.

    A file that already holds this very model is left as it is, so re-writing a card does not churn the weights.
    """
    if Path(path).is_file() and same_model(keras.models.load_model(path, compile=False), model):
        return Path(path)
    clone = type(model).from_config(model.get_config())  # uncompiled (clone_model would keep the optimizer)
    clone.set_weights(model.get_weights())
    return write_atomic(path, clone.save)


def same_model(a: keras.Model, b: keras.Model) -> bool:
    """Whether two models have the same architecture and exactly the same weights."""
    weights_a, weights_b = a.get_weights(), b.get_weights()
    return (
        a.get_config() == b.get_config()
        and len(weights_a) == len(weights_b)
        and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(weights_a, weights_b, strict=True))
    )


def export_litert(model: keras.Model, path: str | os.PathLike[str], weights: str = "int8") -> Path:
    """Write ``model`` as a LiteRT ``.tflite`` file (any batch size) with ``weights`` as ``LITERT_WEIGHTS`` says,
    atomically."""
    if weights not in LITERT_WEIGHTS:
        raise InvalidInputError(f"LiteRT weights are one of {', '.join(LITERT_WEIGHTS)}, not {weights!r}")
    options = {}
    if weights == "int8":
        import tensorflow as tf

        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
    with stderr_silenced():  # the converter's MLIR and absl lines
        return write_atomic(path, lambda tmp: model.export(str(tmp), format="litert", verbose=False, **options))


def write_litert_copy(keras_file: str | os.PathLike[str], out: str | os.PathLike[str], weights: str = "int8") -> Path:
    """Export the Keras model in ``keras_file`` as the LiteRT file ``out`` with ``weights``, recorded in no card."""
    return export_litert(read_model(Path(keras_file), "Keras model", "Name a .keras file."), out, weights)


def write_litert_beside(keras_file: str | os.PathLike[str], weights: str | None = None) -> tuple[Path, list[Path]]:
    """Export the Keras model in ``keras_file`` as ``<same name>.tflite`` beside it, and record that file in every
    model card of the folder that names these weights; returns the LiteRT file and the cards updated. ``weights``
    (``LITERT_WEIGHTS``) defaults to the format those cards name, else int8."""
    keras_file = Path(keras_file)
    cards = [
        card
        for card in sorted(keras_file.parent.glob("*.card.json"))
        if json.loads(card.read_text()).get("model_file") == keras_file.name
    ]
    litert_file = export_litert(
        read_model(keras_file, "Keras model", "Name a .keras file."),
        keras_file.with_suffix(".tflite"),
        weights or (kept_litert_weights(cards[0]) if cards else LITERT_WEIGHTS[0]),
    )
    for card in cards:
        record_litert(card, litert_file)
    return litert_file, cards

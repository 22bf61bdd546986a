"""A model's forward pass traced once and reused: a few ms a call instead of ``model.predict``'s ~100 ms."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np


class CompiledModels:
    """Calls ``model(x, training=False)`` of each model on its own batch, all in one compiled call.

    Independent networks in one ``tf.function`` run side by side and pay one dispatch: the keypoint and expression
    networks of a frame take ~6 ms together this way against ~10 ms as two calls (2 CPU cores). Batches of more than
    ``chunk`` rows go through ``chunk`` rows at a time, so memory stays bounded: one call on 20,000 64x64 faces would
    hold over 24 GB of activations, and a crowd photo read at seven zooms (``--multiscale``) sends 14 views per face.
    """

    def __init__(self, *models: keras.Model, chunk: int = 1024) -> None:
        self.models = models
        self.chunk = chunk
        self._call = _compile(models)

    def __call__(self, *batches: np.ndarray) -> tuple[np.ndarray, ...]:
        """Each model's outputs for its float32 batch, as NumPy arrays (an empty batch gets an empty output)."""
        longest = max(len(batch) for batch in batches)
        if longest <= self.chunk:
            return self._once(*batches)
        parts = [self._once(*(b[i : i + self.chunk] for b in batches)) for i in range(0, longest, self.chunk)]
        return tuple(np.concatenate(outputs) for outputs in zip(*parts, strict=True))

    def _once(self, *batches: np.ndarray) -> tuple[np.ndarray, ...]:
        if all(len(batch) == 0 for batch in batches):
            return tuple(np.zeros((0, *m.output_shape[1:]), dtype=np.float32) for m in self.models)
        padded = [
            batch if len(batch) else np.zeros((1, *m.input_shape[1:]), dtype=np.float32)
            for m, batch in zip(self.models, batches, strict=True)
        ]
        outputs = self._call(*padded)
        return tuple(keras.ops.convert_to_numpy(out)[: len(b)] for out, b in zip(outputs, batches, strict=True))


class CompiledModel:
    """Calls ``model(x, training=False)`` through the backend's compiler (``tf.function`` or ``jax.jit``), ``chunk``
    rows at a time (see ``CompiledModels``)."""

    def __init__(self, model: keras.Model, chunk: int = 1024) -> None:
        self.model = model
        self._call = CompiledModels(model, chunk=chunk)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """Outputs for a float32 batch, as a NumPy array."""
        return self._call(batch)[0]


def _compile(models: tuple[keras.Model, ...]) -> Callable[..., tuple[object, ...]]:
    def forward(*batches: object) -> tuple[object, ...]:
        return tuple(model(x, training=False) for model, x in zip(models, batches, strict=True))

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # Traced once for any batch size; calling the concrete function skips tf.function's per-call signature
        # matching (~1.7 ms of the ~8 ms the two networks take per frame).
        signature = [tf.TensorSpec((None, *m.input_shape[1:]), tf.float32) for m in models]
        return tf.function(forward).get_concrete_function(*signature)
    if backend == "jax":
        import jax

        return jax.jit(forward)
    return lambda *batches: tuple(m.predict_on_batch(x) for m, x in zip(models, batches, strict=True))

"""A Keras model's forward pass traced once and reused (a few ms a call instead of ``model.predict``'s ~100 ms): the
``Network`` for ``.keras`` files, which training, evaluation of runs and ``--model X.keras`` use."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from facexpr.networks import Network


class CompiledModel(Network):
    """Calls ``model(x, training=False)`` through the backend's compiler (``tf.function`` or ``jax.jit``), ``chunk``
    rows at a time. ``model`` stays reachable, so a trainer can tell whether a reader wraps the model it trains."""

    def __init__(self, model: keras.Model, chunk: int = 1024) -> None:
        super().__init__(chunk)
        self.model = model
        self.input_shape = tuple(model.input_shape)
        self.output_shape = tuple(model.output_shape)
        self._call = _compile(model)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return keras.ops.convert_to_numpy(self._call(batch))


def _compile(model: keras.Model) -> Callable[[np.ndarray], object]:
    def forward(batch: object) -> object:
        return model(batch, training=False)

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # Traced once for any batch size; calling the concrete function skips tf.function's per-call signature
        # matching (~1.7 ms of the ~8 ms the two networks take per frame).
        return tf.function(forward).get_concrete_function(tf.TensorSpec((None, *model.input_shape[1:]), tf.float32))
    if backend == "jax":
        import jax

        return jax.jit(forward)
    return model.predict_on_batch

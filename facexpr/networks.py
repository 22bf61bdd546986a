"""A network as the models run it: a batch in, a NumPy array out, from a LiteRT file or (with ``facexpr[train]``) a
Keras model, through one interface. Imports no TensorFlow: the runtime reads ``.tflite`` files with LiteRT."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from facexpr.errors import DataNotFoundError, InvalidInputError

TRAIN_EXTRA_HINT = 'install the training extra, `pip install "facexpr[train]"`, to read Keras models'


class Network(ABC):
    """``network(batch)``: the outputs of a float32 batch, ``chunk`` rows at a time so memory stays bounded (one call on
    20,000 64x64 faces would hold over 24 GB of activations; a crowd read at seven zooms sends 14 views per face).

    ``input_shape`` and ``output_shape`` are Keras-style, with ``None`` for the batch.
    """

    input_shape: tuple[int | None, ...]
    output_shape: tuple[int | None, ...]

    def __init__(self, chunk: int = 1024) -> None:
        self.chunk = chunk

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """The float32 outputs for ``batch`` (an empty batch gets an empty output)."""
        if len(batch) == 0:
            return np.zeros((0, *self.output_shape[1:]), dtype=np.float32)
        if len(batch) <= self.chunk:
            return self._run(np.ascontiguousarray(batch, dtype=np.float32))
        return np.concatenate([self(batch[i : i + self.chunk]) for i in range(0, len(batch), self.chunk)])

    @abstractmethod
    def _run(self, batch: np.ndarray) -> np.ndarray:
        """The outputs of a non-empty float32 batch of at most ``chunk`` rows."""


def read_network(path: str | os.PathLike[str], what: str, hint: str) -> Network:
    """The network saved at ``path``: a ``.tflite`` file through LiteRT, a ``.keras`` / ``.h5`` file through Keras
    (which needs ``facexpr[train]``). ``what`` names it in errors and ``hint`` says where to get one."""
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"{what} not found: {file}. {hint}")
    if file.suffix == ".tflite":
        from facexpr.litert import LiteRTNetwork

        return LiteRTNetwork(file, what)
    return as_network(_keras_model(file, what))


def as_network(model: Any) -> Network:
    """``model`` as a ``Network``: a network as it is, a Keras model behind its compiled call."""
    if isinstance(model, Network):
        return model
    from facexpr.compiled import CompiledModel

    return CompiledModel(model)


def _keras_model(file: Path, what: str) -> Any:
    try:
        from facexpr.modelfile import read_model
    except ImportError as error:
        raise InvalidInputError(f"{file}: a Keras {what} needs TensorFlow: {TRAIN_EXTRA_HINT}") from error
    return read_model(file, what, "")

"""Networks exported as LiteRT (``.tflite``) files, run with the ``ai-edge-litert`` interpreter and XNNPACK: the
shipped models' runtime, which needs no TensorFlow."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

from facexpr.errors import InvalidInputError
from facexpr.networks import Network
from facexpr.quiet import stderr_silenced

#: Threads each interpreter may use: the machine's cores, at most 4 (these small networks gain nothing beyond).
THREADS = min(4, os.cpu_count() or 1)


class LiteRTNetwork(Network):
    """A ``.tflite`` network whose batch dimension (and any other dimension it leaves open, such as a detector's
    picture size) is resized to each call's batch.

    One interpreter is not safe to call from two threads at once, so calls take turns (a lock); a server that wants
    calls side by side loads one network per worker.
    """

    def __init__(self, path: str | os.PathLike[str], what: str = "network", chunk: int = 1024) -> None:
        super().__init__(chunk)
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        try:
            self._interpreter = Interpreter(model_path=str(self.path), num_threads=THREADS)
        except ValueError as error:  # what LiteRT raises for a file that is not a model
            raise InvalidInputError(f"{self.path}: not a readable {what} (expected a LiteRT .tflite file)") from error
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise InvalidInputError(
                f"{self.path}: a {what} has one input and one output, not {len(inputs)} and {len(outputs)}"
            )
        self._input, self._output = inputs[0]["index"], outputs[0]["index"]
        self.input_shape = (None, *map(_dimension, inputs[0]["shape_signature"][1:]))
        self.output_shape = (None, *map(_dimension, outputs[0]["shape_signature"][1:]))
        self._shape: tuple[int, ...] = ()
        self._lock = threading.Lock()

    def _run(self, batch: np.ndarray) -> np.ndarray:
        fixed = all(want in (None, got) for want, got in zip(self.input_shape[1:], batch.shape[1:], strict=False))
        if batch.ndim != len(self.input_shape) or not fixed:
            raise InvalidInputError(f"{self.path.name} reads batches of {self.input_shape[1:]}, not {batch.shape[1:]}")
        with self._lock:
            if batch.shape != self._shape:
                self._interpreter.resize_tensor_input(self._input, list(batch.shape))
                with stderr_silenced():  # the XNNPACK delegate announces itself on every allocation
                    self._interpreter.allocate_tensors()
                self._shape = batch.shape
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()


def _dimension(size: int) -> int | None:
    """A dimension of a shape signature: ``None`` where the file leaves it open (-1)."""
    return None if size < 0 else int(size)

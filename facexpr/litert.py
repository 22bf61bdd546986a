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
    """A ``.tflite`` network whose batch dimension is resized to each call's batch.

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
        self.input_shape = (None, *map(int, inputs[0]["shape_signature"][1:]))
        self.output_shape = (None, *map(int, outputs[0]["shape_signature"][1:]))
        self._rows = -1
        self._lock = threading.Lock()

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if batch.shape[1:] != self.input_shape[1:]:
            raise InvalidInputError(f"{self.path.name} reads batches of {self.input_shape[1:]}, not {batch.shape[1:]}")
        with self._lock:
            if len(batch) != self._rows:
                self._interpreter.resize_tensor_input(self._input, [len(batch), *self.input_shape[1:]])
                with stderr_silenced():  # the XNNPACK delegate announces itself on every allocation
                    self._interpreter.allocate_tensors()
                self._rows = len(batch)
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output).copy()

"""Networks exported as LiteRT (``.tflite``) files, run with the ``ai-edge-litert`` interpreter and XNNPACK: the
shipped models' runtime, which needs no TensorFlow."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from facexpr.errors import InvalidInputError
from facexpr.networks import Network
from facexpr.quiet import stderr_silenced

#: Threads each interpreter may use: the machine's cores, at most 4 (these small networks gain nothing beyond).
THREADS = min(4, os.cpu_count() or 1)
#: Input shapes each network keeps an allocated interpreter for: re-allocating for a new shape costs about 4-10 ms
#: (XNNPACK repacks the weights), as much as the detector's own reading of a 640x480 frame.
KEPT_SHAPES = 16
#: How a LiteRT file holds its weights: ``int8`` (dynamic-range quantization: int8 weights, activations quantized on
#: the fly) or ``float32`` as trained. The expression and keypoint networks read 3-5x faster from int8 files here.
LITERT_WEIGHTS = ("int8", "float32")


class LiteRTNetwork(Network):
    """A ``.tflite`` network whose batch dimension (and any other dimension it leaves open, such as a detector's
    picture size) is resized to each call's batch; the interpreters of the last ``KEPT_SHAPES`` shapes stay allocated,
    so a frame's varying face count or a folder's few photo sizes do not re-allocate on every call.

    One interpreter is not safe to call from two threads at once, so calls take turns (a lock); a server that wants
    calls side by side loads one network per worker.
    """

    def __init__(self, path: str | os.PathLike[str], what: str = "network", chunk: int = 1024) -> None:
        super().__init__(chunk)
        self.path = Path(path)
        try:
            interpreter = self._new_interpreter()
        except ValueError as error:  # what LiteRT raises for a file that is not a model
            raise InvalidInputError(f"{self.path}: not a readable {what} (expected a LiteRT .tflite file)") from error
        inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise InvalidInputError(
                f"{self.path}: a {what} has one input and one output, not {len(inputs)} and {len(outputs)}"
            )
        self._input, self._output = inputs[0]["index"], outputs[0]["index"]
        self.input_shape = (None, *map(_dimension, inputs[0]["shape_signature"][1:]))
        self.output_shape = (None, *map(_dimension, outputs[0]["shape_signature"][1:]))
        self._interpreters: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._spare: Any = interpreter  # the first interpreter, not yet allocated for a shape
        self._lock = threading.Lock()

    def _new_interpreter(self) -> Any:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=str(self.path), num_threads=THREADS)

    def _interpreter_for(self, shape: tuple[int, ...]) -> Any:
        """The interpreter allocated for ``shape``: a kept one, else a new one (the oldest beyond ``KEPT_SHAPES``
        dropped)."""
        if shape in self._interpreters:
            self._interpreters.move_to_end(shape)
            return self._interpreters[shape]
        interpreter = self._spare if self._spare is not None else self._new_interpreter()
        self._spare = None
        interpreter.resize_tensor_input(self._input, list(shape))
        with stderr_silenced():  # the XNNPACK delegate announces itself on every allocation
            interpreter.allocate_tensors()
        self._interpreters[shape] = interpreter
        if len(self._interpreters) > KEPT_SHAPES:
            self._interpreters.popitem(last=False)
        return interpreter

    def _run(self, batch: np.ndarray) -> np.ndarray:
        fixed = all(want in (None, got) for want, got in zip(self.input_shape[1:], batch.shape[1:], strict=False))
        if batch.ndim != len(self.input_shape) or not fixed:
            raise InvalidInputError(f"{self.path.name} reads batches of {self.input_shape[1:]}, not {batch.shape[1:]}")
        with self._lock:
            interpreter = self._interpreter_for(batch.shape)
            interpreter.set_tensor(self._input, batch)
            interpreter.invoke()
            return interpreter.get_tensor(self._output).copy()


def weight_format(path: str | os.PathLike[str]) -> str:
    """How the LiteRT file at ``path`` holds its weights: ``int8`` (dynamic-range quantized) or ``float32``."""
    from ai_edge_litert.interpreter import Interpreter

    tensors = Interpreter(model_path=str(path)).get_tensor_details()
    return "int8" if any(tensor["dtype"] == np.int8 for tensor in tensors) else "float32"


def _dimension(size: int) -> int | None:
    """A dimension of a shape signature: ``None`` where the file leaves it open (-1)."""
    return None if size < 0 else int(size)

"""TensorFlow's start-up lines kept off stderr: its log level set before it loads, and its import run with the
process's stderr pointed at /dev/null (the CUDA-stub lines are written there before any log setting applies)."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys


def silence_tensorflow() -> None:
    """Import TensorFlow (when installed and not yet imported) without its start-up lines, and keep it quiet after."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)

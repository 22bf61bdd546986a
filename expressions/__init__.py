"""The expressions stage: facial expression classes from gray face crops (FER2013 presets).

The model names are imported on first use, so the CLI and the presets load without Keras.
"""

from __future__ import annotations

from expressions.presets import DEFAULT_PRESET, PRESETS, get_preset
from facexpr.lazy import lazy_attributes

_LAZY = {
    "ExpressionModel": "expressions.inference",
    "load_model": "expressions.inference",
    "predict": "expressions.inference",
    "MULTISCALE": "expressions.views",
}

__all__ = ["DEFAULT_PRESET", "PRESETS", "get_preset", *_LAZY]

__getattr__ = lazy_attributes(__name__, _LAZY)

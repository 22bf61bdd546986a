"""The expressions stage: facial expression classes from gray face crops (FER2013 presets)."""

from expressions.inference import ExpressionModel, load_model, predict
from expressions.presets import DEFAULT_PRESET, PRESETS, get_preset

__all__ = ["DEFAULT_PRESET", "PRESETS", "ExpressionModel", "get_preset", "load_model", "predict"]

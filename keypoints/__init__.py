"""The keypoints stage: 15 facial keypoints (Kaggle layout) from 96x96 gray face crops.

The model names are imported on first use, so the CLI and the constants load without Keras.
"""

from __future__ import annotations

from facexpr.lazy import lazy_attributes
from keypoints.constants import FLIP_PAIRS, KEYPOINT_NAMES, NUM_KEYPOINTS

_LAZY = {"KeypointModel": "keypoints.inference", "load_model": "keypoints.inference", "predict": "keypoints.inference"}

__all__ = ["FLIP_PAIRS", "KEYPOINT_NAMES", "NUM_KEYPOINTS", *_LAZY]

__getattr__ = lazy_attributes(__name__, _LAZY)

"""The keypoints stage: 15 facial keypoints (Kaggle layout) from 96x96 gray face crops."""

from keypoints.constants import FLIP_PAIRS, KEYPOINT_NAMES, NUM_KEYPOINTS
from keypoints.inference import KeypointModel, load_model, predict

__all__ = ["FLIP_PAIRS", "KEYPOINT_NAMES", "NUM_KEYPOINTS", "KeypointModel", "load_model", "predict"]

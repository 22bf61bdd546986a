"""Masked keypoint losses and metrics in ``keras.ops`` (backend-neutral); NaN targets are ignored."""

from __future__ import annotations

import math

import keras
from keras import ops

#: Outputs are scaled so one unit is half the crop side; losses work in crop pixels.
PIXELS_PER_UNIT = 48.0


def _masked_pixel_error(y_true, y_pred):
    mask = ops.logical_not(ops.isnan(y_true))
    diff = ops.where(mask, y_true - y_pred, ops.zeros_like(y_pred)) * PIXELS_PER_UNIT
    return diff, ops.cast(mask, y_pred.dtype)


def _per_sample_mean(values, mask):
    return ops.sum(values * mask, axis=-1) / ops.maximum(ops.sum(mask, axis=-1), 1.0)


@keras.saving.register_keras_serializable(package="facexpr")
def masked_mse(y_true, y_pred):
    """Mean squared error in crop pixels over the coordinates that are present."""
    diff, mask = _masked_pixel_error(y_true, y_pred)
    return _per_sample_mean(ops.square(diff), mask)


@keras.saving.register_keras_serializable(package="facexpr")
def masked_wing(y_true, y_pred, width: float = 10.0, curvature: float = 2.0):
    """Wing loss (Feng et al., CVPR 2018) in crop pixels: log-shaped for small errors, linear for large."""
    diff, mask = _masked_pixel_error(y_true, y_pred)
    absolute = ops.abs(diff)
    offset = width - width * math.log(1.0 + width / curvature)
    loss = ops.where(absolute < width, width * ops.log(1.0 + absolute / curvature), absolute - offset)
    return _per_sample_mean(loss, mask)


@keras.saving.register_keras_serializable(package="facexpr")
def pixel_mse(y_true, y_pred):
    """Metric: masked MSE in crop pixels (its square root over a split is the Kaggle RMSE)."""
    return masked_mse(y_true, y_pred)


LOSSES = {"mse": masked_mse, "wing": masked_wing}

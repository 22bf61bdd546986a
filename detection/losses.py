"""The detector's training loss (``keras.ops`` only): a penalty-reduced focal loss on the centre heatmap plus L1 on
each face's offset and size at its own cell, both per face of the batch."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

#: Weight of the offset and size L1 terms against the centre term.
GEOMETRY_WEIGHT = 1.0


@keras.saving.register_keras_serializable(package="facexpr")
def detection_loss(targets: Any, outputs: Any) -> Any:
    """CenterNet's focal loss (alpha 2, beta 4) over cells not ignored, plus L1 geometry, divided by the faces."""
    heat = targets[..., 0]
    logit = outputs[..., 0]
    positive = ops.cast(heat >= 0.999, "float32")
    negative = ops.cast(heat >= 0.0, "float32") * (1.0 - positive)
    probability = ops.sigmoid(logit)
    log_p, log_not_p = -ops.softplus(-logit), -ops.softplus(logit)
    focal = -positive * ops.square(1.0 - probability) * log_p
    focal -= negative * ops.square(probability) * ops.power(1.0 - ops.maximum(heat, 0.0), 4.0) * log_not_p
    faces = ops.maximum(ops.sum(targets[..., 4]), 1.0)
    geometry = ops.sum(ops.abs(outputs[..., 1:4] - targets[..., 1:4]) * targets[..., 4:5])
    return (ops.sum(focal) + GEOMETRY_WEIGHT * geometry) / faces

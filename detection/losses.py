"""The detector's training loss (``keras.ops`` only): a penalty-reduced focal loss on the centre heatmap plus L1 on
the offset and size each positive cell regresses, both per positive cell of the batch."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

#: Weight of the offset and size L1 terms against the centre term.
GEOMETRY_WEIGHT = 1.0


@keras.saving.register_keras_serializable(package="facexpr")
def detection_loss(targets: Any, outputs: Any) -> Any:
    """CenterNet's focal loss (alpha 2, beta 4) over cells not ignored, plus L1 geometry at the positive cells,
    divided by the positive cells."""
    heat = targets[..., 0]
    logit = outputs[..., 0]
    positive = targets[..., 4]
    negative = ops.cast(heat >= 0.0, "float32") * (1.0 - positive)
    probability = ops.sigmoid(logit)
    log_p, log_not_p = -ops.softplus(-logit), -ops.softplus(logit)
    focal = -positive * ops.square(1.0 - probability) * log_p
    focal -= negative * ops.square(probability) * ops.power(1.0 - ops.maximum(heat, 0.0), 4.0) * log_not_p
    positives = ops.maximum(ops.sum(positive), 1.0)
    geometry = ops.sum(ops.abs(outputs[..., 1:4] - targets[..., 1:4]) * targets[..., 4:5])
    return (ops.sum(focal) + GEOMETRY_WEIGHT * geometry) / positives

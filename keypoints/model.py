"""Builds the keypoints model: a residual CNN from a 96x96 gray face to 30 scaled coordinates."""

from __future__ import annotations

import keras
from keras import layers

from facexpr.resnet import conv_bn_relu, residual_stages
from keypoints.config import KeypointConfig
from keypoints.constants import NUM_KEYPOINTS


def build_model(config: KeypointConfig = KeypointConfig()) -> keras.Model:
    """Residual CNN: raw 0-255 gray pixels in, (x, y) of each keypoint scaled to about [-1, 1] out.

    See ``keypoints.targets`` for the scaling between crop pixels and the outputs.
    """
    size = config.input_size
    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale_pixels")(inputs)
    x = conv_bn_relu(x, config.stem_filters, 3, 2, config.weight_decay, name="stem")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool")(x)
    x = residual_stages(x, config.stage_filters, config.blocks_per_stage, config.weight_decay)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(config.head_dropout, name="head_dropout")(x)
    # Zero weights: training starts from every point at the crop centre, not from large random offsets.
    outputs = layers.Dense(2 * NUM_KEYPOINTS, kernel_initializer="zeros", name="coordinates")(x)
    return keras.Model(inputs, outputs, name="keypoints_resnet")

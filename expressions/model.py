"""Builds the expression classifier: a ResNet-style CNN on gray faces with a softmax over the preset's classes."""

from __future__ import annotations

import keras
from keras import layers

from expressions.config import ExpressionConfig
from expressions.presets import get_preset
from facexpr.resnet import conv_bn_relu, residual_stages

#: The softmax layer: one unit per class of the preset.
HEAD = "probabilities"


def build_model(config: ExpressionConfig = ExpressionConfig()) -> keras.Model:
    """Raw 0-255 gray pixels in, class probabilities (softmax) out."""
    size = config.input_size
    inputs = keras.Input((size, size, 1), name="face")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale_pixels")(inputs)
    x = conv_bn_relu(x, config.stem_filters, 3, 1, config.weight_decay, name="stem")
    x = layers.MaxPooling2D(2, name="stem_pool")(x)
    x = residual_stages(x, config.stage_filters, config.blocks_per_stage, config.weight_decay)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(config.head_dropout, name="head_dropout")(x)
    outputs = layers.Dense(get_preset(config.preset).num_classes, activation="softmax", name=HEAD)(x)
    return keras.Model(inputs, outputs, name=f"expressions_resnet_{config.preset}")

"""Residual building blocks (batch-normalised, pre-activation) shared by the keypoint and expression models."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers


def conv_bn_relu(
    x: keras.KerasTensor, filters: int, kernel: int, stride: int, weight_decay: float, name: str
) -> keras.KerasTensor:
    """Convolution, batch norm and ReLU: the stem of both models."""
    x = layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_regularizer=keras.regularizers.l2(weight_decay),
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def residual_block(
    x: keras.KerasTensor, filters: int, stride: int, weight_decay: float, name: str
) -> keras.KerasTensor:
    """Pre-activation basic block: BN-ReLU-Conv3x3 twice, plus an identity or 1x1 projection shortcut."""
    regularizer = keras.regularizers.l2(weight_decay)
    pre = layers.BatchNormalization(name=f"{name}_bn1")(x)
    pre = layers.ReLU(name=f"{name}_relu1")(pre)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=stride, use_bias=False, kernel_regularizer=regularizer, name=f"{name}_proj"
        )(pre)
    y = layers.Conv2D(
        filters, 3, strides=stride, padding="same", use_bias=False, kernel_regularizer=regularizer, name=f"{name}_conv1"
    )(pre)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    y = layers.ReLU(name=f"{name}_relu2")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_regularizer=regularizer, name=f"{name}_conv2")(
        y
    )
    return layers.Add(name=f"{name}_add")([shortcut, y])


def residual_stages(
    x: keras.KerasTensor, filters: tuple[int, ...], blocks: tuple[int, ...], weight_decay: float
) -> keras.KerasTensor:
    """Stages of residual blocks; every stage after the first halves the resolution in its first block."""
    if len(filters) != len(blocks):
        raise ValueError(f"{len(filters)} stage widths but {len(blocks)} block counts")
    for stage, (width, count) in enumerate(zip(filters, blocks, strict=True)):
        for block in range(count):
            stride = 2 if stage > 0 and block == 0 else 1
            x = residual_block(x, width, stride, weight_decay, name=f"stage{stage + 1}_block{block + 1}")
    x = layers.BatchNormalization(name="final_bn")(x)
    return layers.ReLU(name="final_relu")(x)


def start_new_blocks_as_identity(model: keras.Model, new_layers: list[str]) -> list[str]:
    """Zero the last convolution of each residual block of ``model`` that is wholly among ``new_layers`` and has an
    identity shortcut: a network deepened by such blocks starts out computing what the one it came from did.
    Returns the blocks so started."""
    names, new = {layer.name for layer in model.layers}, set(new_layers)
    started = []
    for name in new_layers:
        block = name.removesuffix("_conv2")
        if name.endswith("_conv2") and f"{block}_conv1" in new and f"{block}_proj" not in names:
            layer = model.get_layer(name)
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
            started.append(block)
    return started

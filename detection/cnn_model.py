"""The CNN face detector's network: a small depthwise-separable backbone (strides 2-64), a top-down feature pyramid
merged at stride 8 (or 4), and one centre-heatmap head (backend-neutral Keras: layers and ``keras.ops`` only)."""

from __future__ import annotations

import keras
from keras import layers

from detection.cnn_config import DetectorConfig
from detection.heatmap import CHANNELS, PRIOR_LOGIT


def separable(
    x: keras.KerasTensor, filters: int, stride: int, kernel: int, decay: float, momentum: float, name: str
) -> keras.KerasTensor:
    """Depthwise ``kernel`` x ``kernel`` then pointwise convolution, each batch-normalised; a residual sum when the
    shape allows, then ReLU."""
    regularizer = keras.regularizers.l2(decay)
    y = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    y = layers.BatchNormalization(momentum=momentum, name=f"{name}_dw_bn")(y)
    y = layers.ReLU(name=f"{name}_dw_relu")(y)
    y = layers.Conv2D(filters, 1, use_bias=False, kernel_regularizer=regularizer, name=f"{name}_pw")(y)
    y = layers.BatchNormalization(momentum=momentum, name=f"{name}_pw_bn")(y)
    if stride == 1 and x.shape[-1] == filters:
        y = layers.Add(name=f"{name}_add")([x, y])
    return layers.ReLU(name=f"{name}_relu")(y)


def build_detector(config: DetectorConfig) -> keras.Model:
    """Gray 0-255 picture (any size, sides multiples of 64) in; per cell (``config.stride`` pixels) out: a face-centre
    logit, the centre's offset within the cell (x, y) and log(face side / stride) (see ``detection.heatmap``).

    Layers keep their names across strides, so a stride-4 network starts from a stride-8 one (``init_from``): the
    stride-8 to stride-64 laterals are ``lateral0``-``lateral3``, the stride-4 one ``lateral_s4``."""
    decay = config.weight_decay
    inputs = keras.Input((None, None, 1), name="picture")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale_pixels")(inputs)
    x = layers.Conv2D(config.widths[0], 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(momentum=config.bn_momentum, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    pyramid, fine = [], None
    for level, width in enumerate(config.widths[1:], start=2):  # strides 4, 8, 16, 32, 64
        kernel = 3 if level == 2 else 5
        x = separable(x, width, 2, kernel, decay, config.bn_momentum, f"s{2**level}_down")
        x = separable(x, width, 1, kernel, decay, config.bn_momentum, f"s{2**level}_block")
        if level >= 3:
            pyramid.append(x)
        elif config.stride == 4:
            fine = x
    top = layers.Conv2D(config.head_width, 1, name=f"lateral{len(pyramid)}")(pyramid[-1])
    for index in range(len(pyramid) - 2, -1, -1):
        lateral = layers.Conv2D(config.head_width, 1, name=f"lateral{index}")(pyramid[index])
        top = layers.Add(name=f"merge{index}")([layers.UpSampling2D(2, name=f"up{index}")(top), lateral])
    if fine is not None:
        lateral = layers.Conv2D(config.head_width, 1, name="lateral_s4")(fine)
        top = layers.Add(name="merge_s4")([layers.UpSampling2D(2, name="up_s4")(top), lateral])
    head = separable(top, config.head_width, 1, 3, decay, config.bn_momentum, "head1")
    head = separable(head, config.head_width, 1, 3, decay, config.bn_momentum, "head2")
    centre = layers.Conv2D(1, 1, bias_initializer=keras.initializers.Constant(PRIOR_LOGIT), name="centre_logit")(head)
    geometry = layers.Conv2D(CHANNELS - 1, 1, kernel_initializer="zeros", name="geometry")(head)
    outputs = layers.Concatenate(name="cells")([centre, geometry])
    return keras.Model(inputs, outputs, name="face_detector")

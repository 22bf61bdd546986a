"""The frozen training configuration of an expression model, saved as JSON next to its weights."""

from __future__ import annotations

from dataclasses import dataclass

from expressions.presets import LABEL_SOURCES, PRESETS
from facexpr.configs import JsonConfig, check_network_shape
from facexpr.errors import InvalidInputError

#: Optimisers a stage can train with: AdamW, or SGD with Nesterov momentum 0.9.
OPTIMIZERS = ("adamw", "sgd")


@dataclass(frozen=True)
class ExpressionConfig(JsonConfig):
    """Everything that defines an expression classifier and how it was trained."""

    # data
    preset: str = "fer5"
    labels: str = "fer2013"  # or "ferplus" (FER+ majority votes), "agreed" (faces where the two agree)
    ferplus_mix: float = 0.0  # training targets: (1 - mix) * one-hot label + mix * the face's FER+ vote shares
    ferplus_extra: bool = False  # also fit the Training faces the preset drops whose FER+ majority names its class
    input_size: int = 48
    aligned: bool = False  # faces turned by their eye centres (``facexpr.alignment``), in training and at run time
    # model
    stem_filters: int = 32
    stage_filters: tuple[int, ...] = (48, 96, 192)  # 1.56M parameters: ~100 img/s on 2 CPU cores
    blocks_per_stage: tuple[int, ...] = (2, 2, 2)
    head_dropout: float = 0.4
    # optimisation
    optimizer: str = "adamw"  # or "sgd" (Nesterov momentum 0.9)
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # sample weight ~ (1 / class frequency) ** power; 0 = none, 1 = fully balanced
    patience: int = 12  # early stopping on mirror-averaged PublicTest accuracy
    seed: int = 0
    init_from: str | None = None  # start from this model's weights (a fine-tuning stage) instead of from scratch
    # augmentation
    flip_prob: float = 0.5
    rotation_deg: float = 12.0
    shift: float = 0.08  # fraction of the side
    zoom: float = 0.12  # scale in 1 +- zoom
    brightness: float = 0.2
    contrast: float = 0.3
    blur_prob: float = 0.1
    noise_prob: float = 0.1
    erase_prob: float = 0.4  # random erasing of one rectangle (2-15% of the face)
    mixup_alpha: float = 0.0  # blend faces and targets across a batch, lambda ~ Beta(alpha, alpha); 0 = off

    def __post_init__(self) -> None:
        """Reject out-of-range values as soon as the config is made, before any data loads."""
        self.check_ranges(
            fractions=(
                "ferplus_mix",
                "head_dropout",
                "label_smoothing",
                "flip_prob",
                "shift",
                "zoom",
                "brightness",
                "contrast",
                "blur_prob",
                "noise_prob",
                "erase_prob",
            ),
            positive=("input_size", "epochs", "batch_size", "learning_rate"),
            non_negative=(
                "weight_decay",
                "warmup_epochs",
                "class_weight_power",
                "patience",
                "rotation_deg",
                "mixup_alpha",
            ),
        )
        for field, value, valid in (
            ("preset", self.preset, tuple(PRESETS)),
            ("labels", self.labels, LABEL_SOURCES),
            ("optimizer", self.optimizer, OPTIMIZERS),
        ):
            if value not in valid:
                raise InvalidInputError(f"ExpressionConfig.{field} must be one of {', '.join(valid)}, not {value!r}")
        if self.ferplus_extra and self.labels != "fer2013":
            raise InvalidInputError(
                f"ExpressionConfig.ferplus_extra adds faces by their FER2013 label, so it needs labels='fer2013', "
                f"not {self.labels!r}"
            )
        check_network_shape("ExpressionConfig", self.stage_filters, self.blocks_per_stage)

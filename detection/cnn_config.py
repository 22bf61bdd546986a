"""The frozen configuration of the CNN face detector and its training, saved as JSON next to its weights."""

from __future__ import annotations

from dataclasses import dataclass

from detection.split import VAL_SHARE
from facexpr.configs import JsonConfig
from facexpr.errors import InvalidInputError


@dataclass(frozen=True)
class DetectorConfig(JsonConfig):
    """Everything that defines the CNN face detector and how it was trained."""

    # data: square gray training pictures cut from the photos, faces drawn at many sizes
    picture_size: int = 320
    smallest_face: float = 12.0  # face sides (pixels) drawn log-uniformly between these two
    largest_face: float = 300.0
    context_faces_below: float = 0.0  # faces drawn smaller come from group-photo faces (0: from any face)
    mosaic_prob: float = 0.3  # a picture made of four quarter-size ones: small faces, more background
    youtube_share: float = 0.25  # pictures drawn from YouTube-Faces frames (the rest: wild-faces-68 photos)
    pictures_per_epoch: int = 2048
    val_share: float = VAL_SHARE  # training photos and people kept aside to choose the checkpoint (never the test part)
    # model
    widths: tuple[int, ...] = (16, 24, 40, 64, 96, 128)  # stem (stride 2), then strides 4, 8, 16, 32, 64
    head_width: int = 48
    stride: int = 8  # the head's cell side: 8, or 4 for faces of 20 px and less (the stride-4 stage joins the pyramid)
    bn_momentum: float = 0.9  # batch-norm statistics follow the weights within a few dozen steps
    # optimisation
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 2
    patience: int = 100
    seed: int = 0
    init_from: str | None = None
    # augmentation
    flip_prob: float = 0.5
    rotation_deg: float = 12.0
    brightness: float = 0.25
    contrast: float = 0.4
    blur_prob: float = 0.2
    noise_prob: float = 0.2
    jpeg_prob: float = 0.0  # pictures saved as JPEG (quality 15-60) after the other jitter
    shade_prob: float = 0.0  # pictures whose faces lie in soft shadows (backlit faces)

    def __post_init__(self) -> None:
        """Reject out-of-range values as soon as the config is made."""
        self.check_ranges(
            fractions=(
                "bn_momentum",
                "mosaic_prob",
                "youtube_share",
                "val_share",
                "flip_prob",
                "brightness",
                "contrast",
                "blur_prob",
                "noise_prob",
                "jpeg_prob",
                "shade_prob",
            ),
            positive=(
                "picture_size",
                "smallest_face",
                "largest_face",
                "pictures_per_epoch",
                "head_width",
                "epochs",
                "batch_size",
                "learning_rate",
            ),
            non_negative=("weight_decay", "warmup_epochs", "patience", "rotation_deg", "context_faces_below"),
        )
        if self.picture_size % 64:
            raise InvalidInputError(f"picture_size must be a multiple of 64, not {self.picture_size}")
        if self.stride not in (4, 8):
            raise InvalidInputError(f"stride must be 4 or 8, not {self.stride}")
        if len(self.widths) != 6:
            raise InvalidInputError(f"widths names the stem and five stages (6 numbers), not {self.widths}")
        if not self.smallest_face < self.largest_face:
            raise InvalidInputError("smallest_face must be below largest_face")

"""The frozen training configuration of the keypoints model, saved as JSON next to its weights."""

from __future__ import annotations

from dataclasses import dataclass

from detection.choice import DEFAULT_DETECTOR, DETECTORS
from facexpr.configs import JsonConfig, check_network_shape
from facexpr.errors import InvalidInputError
from keypoints.constants import FACE_SETS


@dataclass(frozen=True)
class KeypointConfig(JsonConfig):
    """Everything that defines a keypoints model and how it was trained."""

    # data
    input_size: int = 96
    test_fraction: float = 0.15  # of the people, held out for the final report
    val_fraction: float = 0.1  # of the remaining people, for checkpoint selection
    split_seed: int = 0  # fixes which people are held out, whatever the training seed
    faces: tuple[str, ...] = ("youtube",)  # face sets trained on (keypoints.constants.FACE_SETS), each split alike
    detector: str = DEFAULT_DETECTOR  # the face detector whose boxes the training faces are cropped from
    # model
    stem_filters: int = 32  # 3x3 stride-2 conv, then 3x3 stride-2 max-pool: stages start at 24x24
    stage_filters: tuple[int, ...] = (48, 96, 192)
    blocks_per_stage: tuple[int, ...] = (2, 2, 2)
    head_dropout: float = 0.25
    # optimisation
    loss: str = "wing"  # "wing" (robust to the few off labels) or "mse"; both mask missing points
    epochs: int = 60
    batch_size: int = 64  # 64 trains ~1.6x faster per image than 32 on 2 CPU cores
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: int = 3
    patience: int = 30  # early stopping on validation RMSE
    seed: int = 0
    init_from: str | None = None  # start from this model's weights (a fine-tuning stage) instead of from scratch
    # augmentation (image and keypoints move together)
    flip_prob: float = 0.5
    # How the labels sit off the features they mark, in crop pixels: a number (an x offset for every point) or
    # one (dx, dy) per keypoint. Mirrored faces (flips, mirror averaging) move their points so the labels keep
    # the habit (keypoints.geometry.mirror_keypoints). YouTube-Faces labels are not mirror-symmetric: a model
    # trained with plain flips predicts 0.90 px left of them on its own training people.
    label_offset_px: float | tuple[tuple[float, float], ...] = 0.0
    # The face sets whose labels carry that offset (None: every set). wild-faces-68's hand-placed 300-W points do
    # not share YouTube-Faces' habit; a model trained so learns it per kind of picture, and mirror averaging then
    # reads each face's own habit (``KeypointModel.per_face_habit``).
    label_offset_faces: tuple[str, ...] | None = None
    balance_faces: bool = False  # each face set's training faces repeated to as many as the largest set's per epoch
    # Within wild-faces-68, AFW's training faces (group photos: small, turned) repeated to as many as HELEN's
    # (portraits) per epoch, before ``balance_faces``.
    balance_collections: bool = False
    # The share of training faces turned, scaled and moved so that their points, jittered by ``realign_noise_px`` as
    # a first read would place them, lie on the mean shape: the faces the second read sees (``KeypointModel.reread``).
    realign_prob: float = 0.0
    realign_noise_px: float = 1.5
    rotation_deg: float = 18.0
    shift: float = 0.06  # fraction of the crop side
    scale_range: tuple[float, float] = (0.88, 1.12)
    brightness: float = 0.25  # additive, fraction of 255
    contrast: float = 0.3  # multiplicative range 1 +- contrast
    blur_prob: float = 0.25
    noise_prob: float = 0.2

    @property
    def habit_varies(self) -> bool:
        """Whether the label offset holds for some trained face sets only (the habit then varies by face)."""
        return self.label_offset_faces is not None and set(self.label_offset_faces) != set(self.faces)

    def offset_for(self, face_set: str) -> float | tuple[tuple[float, float], ...]:
        """The label offset of one face set's labels."""
        carries = self.label_offset_faces is None or face_set in self.label_offset_faces
        return self.label_offset_px if carries else 0.0

    def __post_init__(self) -> None:
        """Reject out-of-range values as soon as the config is made, before any data loads."""
        self.check_ranges(
            fractions=(
                "test_fraction",
                "val_fraction",
                "head_dropout",
                "flip_prob",
                "realign_prob",
                "shift",
                "brightness",
                "contrast",
                "blur_prob",
                "noise_prob",
            ),
            positive=("input_size", "epochs", "batch_size", "learning_rate"),
            non_negative=("weight_decay", "warmup_epochs", "patience", "rotation_deg", "realign_noise_px"),
        )
        check_network_shape("KeypointConfig", self.stage_filters, self.blocks_per_stage)
        unknown = [name for name in self.faces if name not in FACE_SETS]
        if not self.faces or unknown:
            raise InvalidInputError(f"KeypointConfig.faces must name some of {tuple(FACE_SETS)}, not {self.faces!r}")
        if self.label_offset_faces is not None and not set(self.label_offset_faces) <= set(self.faces):
            raise InvalidInputError(
                f"KeypointConfig.label_offset_faces must name some of the trained sets {self.faces!r}, "
                f"not {self.label_offset_faces!r}"
            )
        if self.detector not in DETECTORS:
            raise InvalidInputError(f"KeypointConfig.detector must be one of {sorted(DETECTORS)}: {self.detector!r}")
        low, high = self.scale_range
        if not 0 < low <= high:
            raise InvalidInputError(f"KeypointConfig.scale_range must be 0 < low <= high, not {self.scale_range!r}")

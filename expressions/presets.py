"""Expression label presets, defined once: class names per preset and the map from FER2013's numbering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facexpr.errors import InvalidInputError

#: FER2013's own labels, in its numbering (0=Angry ... 6=Neutral).
FER2013_CLASSES: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
#: FER2013 data splits: train on the first, pick checkpoints on the second, report on the third.
USAGES: tuple[str, ...] = ("Training", "PublicTest", "PrivateTest")
#: FER+ vote columns (fer2013new.csv) for each FER2013 class.
FERPLUS_COLUMNS: dict[str, str] = {
    "Angry": "anger",
    "Disgust": "disgust",
    "Fear": "fear",
    "Happy": "happiness",
    "Sad": "sadness",
    "Surprise": "surprise",
    "Neutral": "neutral",
}
#: Label sources: FER2013's own labels, FER+ majority votes, or only the faces whose two labels agree.
LABEL_SOURCES: tuple[str, ...] = ("fer2013", "ferplus", "agreed")


@dataclass(frozen=True)
class Preset:
    """A set of expression classes in a fixed order; FER2013 labels outside it are dropped."""

    name: str
    classes: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def from_fer2013(self) -> np.ndarray:
        """Array mapping each FER2013 label (0..6) to this preset's index, or -1 where the class is dropped."""
        return np.array([self.classes.index(c) if c in self.classes else -1 for c in FER2013_CLASSES])

    def map_labels(self, fer_labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(indices, keep): this preset's index of each FER2013 label, and which rows the preset keeps."""
        mapped = self.from_fer2013[np.asarray(fer_labels, dtype=int)]
        keep = mapped >= 0
        return mapped[keep], keep


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("fer5", ("Angry", "Disgust", "Sad", "Happy", "Surprise")),
        Preset("fer7", FER2013_CLASSES),
        Preset("fer5-neutral", ("Angry", "Happy", "Sad", "Surprise", "Neutral")),
    )
}
DEFAULT_PRESET = "fer5"
#: The preset whose network (all seven FER2013 classes) can serve every other preset.
SEVEN_CLASS_PRESET = "fer7"


def can_serve(outputs: int, preset: str | Preset) -> bool:
    """Whether a network with ``outputs`` softmax columns can serve ``preset`` (its own, or a seven-class one)."""
    return outputs in (get_preset(preset).num_classes, len(FER2013_CLASSES))


def class_columns(outputs: int, preset: str | Preset) -> list[int]:
    """Which of a network's ``outputs`` softmax columns hold ``preset``'s classes, in the preset's order.

    A network with as many outputs as the preset has classes is the preset's own; a seven-output one was trained on
    FER2013's classes in FER2013's numbering and serves any preset.
    """
    preset = get_preset(preset)
    if not can_serve(outputs, preset):
        raise InvalidInputError(
            f"a {outputs}-class network cannot serve preset {preset.name}: it needs {preset.num_classes} outputs, or "
            f"{len(FER2013_CLASSES)} in FER2013's order (is it an expression model?)"
        )
    if outputs == preset.num_classes:
        return list(range(outputs))
    return [FER2013_CLASSES.index(c) for c in preset.classes]


def get_preset(name: str | Preset = DEFAULT_PRESET) -> Preset:
    """A preset by name (``fer5``, ``fer7``, ``fer5-neutral``)."""
    if isinstance(name, Preset):
        return name
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidInputError(f"unknown expression preset {name!r}; choose from {', '.join(PRESETS)}") from None

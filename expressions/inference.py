"""Expression inference: the shipped models (LiteRT, cached) and ``predict`` on batches of faces of any size."""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from expressions.presets import DEFAULT_PRESET, PRESETS, SEVEN_CLASS_PRESET, Preset, class_columns, get_preset
from expressions.reading import Reading, with_temperature
from expressions.views import SINGLE_SCALE, average_views, with_views
from facexpr.batches import as_float_batch
from facexpr.errors import InvalidInputError
from facexpr.networks import Network, as_network, read_network

logger = logging.getLogger("facexpr")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
#: OpenCV's BGR-to-gray weights.
BGR_TO_GRAY = np.array([0.114, 0.587, 0.299], dtype=np.float32)


def weights_file(preset: str | Preset, directory: Path | None = None) -> Path:
    """Where a network trained on ``preset``'s classes ships (in ``directory``, default the package's weights)."""
    return (directory or WEIGHTS_DIR) / f"{get_preset(preset).name}.keras"


def card_file(preset: str | Preset, directory: Path | None = None) -> Path:
    """The model card of a shipped preset: its PrivateTest report, and the weights file that serves it."""
    return (directory or WEIGHTS_DIR) / f"{get_preset(preset).name}.card.json"


def read_card(preset: str | Preset) -> dict[str, Any]:
    """The shipped model card of ``preset``."""
    return json.loads(card_file(preset).read_text())


def shipped_presets() -> list[str]:
    """The presets with a model card in the package."""
    return [name for name in PRESETS if card_file(name).is_file()]


def serving_weights(preset: str | Preset) -> Path:
    """The shipped weights that serve ``preset``: the file its card names, else the seven-class model's.

    One seven-class network can serve every preset, so several cards may name the same file, which ships once.
    """
    for name in (get_preset(preset).name, SEVEN_CLASS_PRESET):
        if card_file(name).is_file():
            return WEIGHTS_DIR / read_card(name)["model_file"]
    return weights_file(SEVEN_CLASS_PRESET)


def to_gray_batch(batch: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W[, 1|3|4]) float faces in 0..255 (BGR order for colour) to (N, size, size) gray.

    Faces of whole gray levels (uint8 input, such as the pipeline's crops) are made gray and resized as uint8, exactly
    as training resized FER2013's faces: resizing them as floats instead skips that rounding and reads PublicTest 0.2
    points lower for the shipped fer5.
    """
    whole = np.array_equal(batch, np.rint(batch))
    if batch.ndim == 4:
        channels = batch.shape[-1]
        batch = batch[..., 0] if channels == 1 else batch[..., :3] @ BGR_TO_GRAY
    if min(batch.shape[1:]) < 8:
        raise InvalidInputError(f"faces of {batch.shape[1]}x{batch.shape[2]} pixels are too small to classify")
    if whole:
        return resize_faces(np.rint(batch).astype(np.uint8), size).astype(np.float32)
    return resize_faces(batch, size)


def resize_faces(faces: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W) faces to (N, size, size): area averaging to shrink, bilinear to enlarge (as in training)."""
    if faces.shape[1:] == (size, size):
        return faces
    shrink = faces.shape[1] * faces.shape[2] > size * size
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    resized = np.empty((len(faces), size, size), dtype=faces.dtype)  # stays empty for a frame without faces
    for face, out in zip(faces, resized, strict=True):
        cv2.resize(face, (size, size), dst=out, interpolation=interpolation)
    return resized


class ExpressionModel:
    """A classifier (a ``Network``, or a Keras model run through its compiled call), reporting the classes of
    ``preset``.

    A network trained on all seven FER2013 classes serves any preset: its probabilities are restricted to the
    preset's classes and renormalised. ``tta`` (on by default) averages each face's probabilities with its mirror
    image's: on PublicTest it lifts the shipped fer5 from 83.83% to 84.27% accuracy and fer7 from 67.71% to 68.26%, for
    about 1.5 ms more per one-face frame (2.9 -> 4.4 ms for the 64x64 fer5 network, 2 CPU cores, `facexpr bench`).
    ``scales`` reads each face (and its mirror) at several zooms about its centre and averages them all
    (``views.MULTISCALE``, the ``--multiscale`` flag: see docs/experiments.md for what it measures and costs).
    ``temperature`` calibrates the probabilities (``reading.with_temperature``); an ``abstainer`` withholds the
    label of a face that shows none of the preset's classes (its probabilities stay as they are). An ``aligned``
    network was trained on faces aligned by their eye centres: the pipeline aligns its crops before it reads them
    (a crop in FER2013's framing reads well as it is, the canonical eyes being FER2013's median).
    """

    def __init__(
        self,
        network: Network | Any,
        preset: str | Preset = DEFAULT_PRESET,
        tta: bool = True,
        scales: Sequence[float] = SINGLE_SCALE,
        temperature: float = 1.0,
        abstainer: Abstainer | None = None,
        aligned: bool = False,
    ) -> None:
        if not scales or min(scales) <= 0:
            raise InvalidInputError(f"scales must be one or more positive zooms, got {scales}")
        self.network = as_network(network)
        self.preset = get_preset(preset)
        self.tta = tta
        self.scales = tuple(scales)
        self.size = int(self.network.input_shape[1])
        self.columns = class_columns(int(self.network.output_shape[-1]), self.preset)
        self.temperature = temperature
        self.abstainer = abstainer
        self.aligned = aligned

    @property
    def classes(self) -> tuple[str, ...]:
        return self.preset.classes

    def probabilities(self, faces: np.ndarray) -> np.ndarray:
        """(N, C) class probabilities of gray or BGR faces, uint8 or float, any size."""
        return self.finish(self.network(self.prepare(faces)))

    @property
    def views(self) -> int:
        """How many times the network reads each face."""
        return len(self.scales) * (2 if self.tta else 1)

    def prepare(self, faces: np.ndarray) -> np.ndarray:
        """The network's float32 input batch for ``faces``: each face at ``scales``, and mirrored when ``tta``."""
        batch = to_gray_batch(as_float_batch(faces), self.size)
        return with_views(batch, self.scales, self.tta)[..., None].astype(np.float32)

    def finish(self, outputs: np.ndarray) -> np.ndarray:
        """(N, C) probabilities of the preset's classes from the network's outputs on ``prepare``'s batch."""
        probs = average_views(outputs[:, self.columns], self.views)
        return with_temperature(probs / probs.sum(axis=1, keepdims=True), self.temperature)

    def labels(self, probabilities: np.ndarray) -> list[str]:
        """The most probable class of each row."""
        return [self.classes[i] for i in probabilities.argmax(axis=1)]

    def predict(self, faces: np.ndarray, framed: np.ndarray | None = None) -> tuple[list[str | None], np.ndarray]:
        """(labels, probabilities): a class name per face (``None`` where the abstainer withholds it) and an (N, C)
        array whose rows sum to 1. ``framed``: the same faces before eye alignment, for an abstainer that reads both
        framings (``Abstainer.both_framings``)."""
        probs = self.probabilities(faces)
        labels: list[str | None] = list(self.labels(probs))
        if self.abstainer is not None and len(probs):
            withheld = self.abstainer.abstains(faces, framed)
            labels = [None if other else label for label, other in zip(labels, withheld, strict=True)]
        return labels, probs


@dataclass(frozen=True)
class Abstainer:
    """A face is none of the preset's classes when the seven-class ``model`` gives ``column`` (its Neutral) a
    probability above ``threshold``; with ``both_framings``, the mean of that probability on the aligned face and on
    the face as framed, where both are given (one network call)."""

    model: ExpressionModel
    column: int
    threshold: float
    both_framings: bool = False

    def scores(self, faces: np.ndarray, framed: np.ndarray | None = None) -> np.ndarray:
        """The seven-class probability of the abstaining class, per face."""
        if not self.both_framings or framed is None:
            return self.model.probabilities(faces)[:, self.column]
        if len(framed) != len(faces):
            raise InvalidInputError(f"{len(faces)} faces but {len(framed)} framed faces")
        both = [to_gray_batch(as_float_batch(batch), self.model.size) for batch in (faces, framed)]
        probs = self.model.probabilities(np.concatenate(both))[:, self.column]
        return (probs[: len(faces)] + probs[len(faces) :]) / 2.0

    def abstains(self, faces: np.ndarray, framed: np.ndarray | None = None) -> np.ndarray:
        """Whether each face gets no label."""
        return self.scores(faces, framed) > self.threshold


def load_model(
    preset: str = DEFAULT_PRESET,
    path: str | os.PathLike[str] | None = None,
    tta: bool = True,
    scales: Sequence[float] = SINGLE_SCALE,
    abstain: bool = True,
) -> ExpressionModel:
    """The expression model of ``preset`` (the shipped weights' LiteRT file unless ``path``; a ``.keras`` file needs
    ``facexpr[train]``), loaded once and cached; ``tta`` and ``scales`` as in ``ExpressionModel``.

    A preset without weights of its own (``fer5-neutral``) is served by the shipped seven-class network. The shipped
    models read with their calibrated temperature and, unless ``abstain=False``, give a face that shows none of the
    preset's classes no label (``<preset>.reading.json``); a model at ``path`` reads as its network does.
    """
    return _cached_model(preset, path, tta, tuple(scales), abstain)


@functools.lru_cache(maxsize=8)
def _cached_model(
    preset: str, path: str | os.PathLike[str] | None, tta: bool, scales: tuple[float, ...], abstain: bool
) -> ExpressionModel:
    if path is not None:
        return ExpressionModel(_network(Path(path)), preset, tta=tta, scales=scales, aligned=is_aligned(Path(path)))
    reading = Reading.load(reading_file(preset))
    abstainer = None
    if abstain and reading.abstain_class is not None:
        seven = abstaining_model(reading.abstain_network, tta)
        column = seven.classes.index(reading.abstain_class)
        abstainer = Abstainer(seven, column, reading.abstain_threshold, reading.abstain_both_framings)
    file = shipped_network_file(preset)
    return ExpressionModel(_network(file), preset, tta, scales, reading.temperature, abstainer, is_aligned(file))


def is_aligned(model_file: Path) -> bool:
    """Whether the network in ``model_file`` was trained on aligned faces, by the config saved beside it
    (``<name>.config.json`` of shipped weights, a run's ``config.json``); no config: unaligned, with a warning (an
    aligned network read on unaligned crops reads turned faces worse)."""
    for config in (model_file.with_suffix(".config.json"), model_file.parent / "config.json"):
        if config.is_file():
            return bool(json.loads(config.read_text()).get("aligned", False))
    logger.warning("%s: no config (%s.config.json, config.json) beside it; read unaligned", model_file, model_file.stem)
    return False


@functools.lru_cache(maxsize=8)
def _network(file: Path) -> Network:
    return read_network(
        file,
        "expression model",
        "Shipped presets install with the package; train your own with `facexpr expressions train`.",
    )


def shipped_network_file(preset: str | Preset) -> Path:
    """The LiteRT file that serves ``preset``, exported from its shipped weights."""
    return serving_weights(preset).with_suffix(".tflite")


def abstaining_model(network: str | None = None, tta: bool = True) -> ExpressionModel:
    """The seven-class model that decides "none of these", read from ``abstainer_file(network)``."""
    return ExpressionModel(_network(abstainer_file(network)), SEVEN_CLASS_PRESET, tta=tta)


def abstainer_file(network: str | None = None) -> Path:
    """The seven-class LiteRT file named ``network`` beside the shipped weights (a reading's ``abstain_network``), else
    the one serving the seven-class preset."""
    return shipped_network_file(SEVEN_CLASS_PRESET) if network is None else WEIGHTS_DIR / network


def reading_file(preset: str | Preset) -> Path:
    """Where the shipped reading of ``preset`` (calibration, abstention) lies."""
    return WEIGHTS_DIR / f"{get_preset(preset).name}.reading.json"


def predict(
    faces: np.ndarray, preset: str = DEFAULT_PRESET, model: ExpressionModel | None = None, abstain: bool = True
) -> tuple[list[str | None], np.ndarray]:
    """Expression of each face: a list of class names (``None`` for a face that shows none of the preset's classes,
    unless ``abstain=False``) and an (N, C) calibrated probability array (rows sum to 1)."""
    return (model or load_model(preset, abstain=abstain)).predict(faces)

"""Keypoint inference: the shipped model (LiteRT, cached) and ``predict`` on batches of 96x96 gray faces."""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from facexpr.batches import as_float_batch
from facexpr.errors import InvalidInputError
from facexpr.networks import Network, as_network, read_network
from keypoints.config import KeypointConfig
from keypoints.constants import EYE_CENTRES, NUM_KEYPOINTS
from keypoints.geometry import LabelOffset, mirror_keypoints
from keypoints.realign import points_back, realign_matrices, realigned_faces
from keypoints.targets import decode

logger = logging.getLogger("facexpr")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MODEL_FILE = WEIGHTS_DIR / "keypoints.keras"
#: The LiteRT export of the shipped weights: what ``load_model`` reads by default.
RUNTIME_FILE = MODEL_FILE.with_suffix(".tflite")


class KeypointModel:
    """A keypoints network (a ``Network``, or a Keras model run through its compiled call); ``tta`` (on by default)
    averages each face with its mirror image and, given each face's wider context crop, with a second read of the
    face re-aligned by the first (``reread``).

    ``label_offset`` is how the labels the network learnt sit off the features (``KeypointConfig.label_offset_px``):
    mirror averaging needs it to map the mirrored face's points back. With ``per_face_habit`` (a network trained on
    face sets whose labels differ in that habit) each face's read and mirror read say how strongly the network
    applies the offset to it, and mirror averaging keeps that much of it.
    """

    def __init__(
        self, model: Network | Any, tta: bool = True, label_offset: LabelOffset = 0.0, per_face_habit: bool = False
    ) -> None:
        network = as_network(model)
        outputs = int(network.output_shape[-1])
        if outputs != 2 * NUM_KEYPOINTS:
            raise InvalidInputError(
                f"a network with {outputs} outputs is not a keypoints model: it needs {2 * NUM_KEYPOINTS}, "
                f"(x, y) of {NUM_KEYPOINTS} keypoints"
            )
        self.network = network
        self.size = int(network.input_shape[1])
        self.tta = tta
        self.label_offset = label_offset
        self.per_face_habit = per_face_habit
        origin = np.zeros((NUM_KEYPOINTS, 2), dtype=np.float32)
        #: How mapping a mirror read back with the offset moves each point: the same for every face.
        self.habit = mirror_keypoints(origin, self.size, label_offset) - mirror_keypoints(origin, self.size, 0.0)

    @classmethod
    def trained_with(cls, model: Network | Any, config: KeypointConfig, tta: bool = True) -> KeypointModel:
        """``model`` read with the label offset of the config it was trained with."""
        return cls(model, tta=tta, label_offset=config.label_offset_px, per_face_habit=config.habit_varies)

    def predict(self, faces: np.ndarray, context: np.ndarray | None = None) -> np.ndarray:
        """(N, size, size[, 1]) gray faces (uint8, or float in 0..1 or 0..255) to (N, 15, 2) crop pixels; with
        ``context`` (each face's crop ``keypoints.crops.CONTEXT`` times wider around the same centre) and ``tta``,
        each face is read twice (``reread``)."""
        return self.predict_with_eyes(faces, context)[0]

    def predict_with_eyes(self, faces: np.ndarray, context: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``predict``'s points and the (N, 2, 2) eye centres that align the faces (crop pixels).

        The eyes are the first read's and keep one habit for every face (the config's offset): with
        ``per_face_habit`` each face's own habit would move them by how its two reads differ, and an aligned
        expression network reads faces worse for that jitter (FER2013's faces are aligned by the same eyes, read
        without context).
        """
        outputs = self.network(self.prepare(faces))
        points = self.finish(outputs)
        one_habit = self.finish(outputs, per_face_habit=False) if self.per_face_habit else points
        if context is not None and self.tta:
            points = self.reread(points, context)
        return points, one_habit[:, list(EYE_CENTRES)]

    def reread(self, points: np.ndarray, context: np.ndarray) -> np.ndarray:
        """``points`` (N, 15, 2) averaged with a second read of each face, warped out of its (N, C, C) ``context``
        crop so that ``points`` lie on the training faces' mean shape (``keypoints.realign``), mapped back."""
        context = np.asarray(context)
        if context.ndim != 3 or context.shape[1] != context.shape[2] or context.shape[1] < self.size:
            raise InvalidInputError(
                f"context crops must be an (N, C, C) batch of gray squares at least {self.size} wide, "
                f"not {context.shape}"
            )
        if len(context) != len(points):
            raise InvalidInputError(f"{len(points)} faces but {len(context)} context crops")
        if not len(points):
            return points
        matrices = realign_matrices(points, self.size, context.shape[1])
        faces = realigned_faces(context, matrices, self.size)
        second = points_back(self.finish(self.network(self.prepare(faces))), matrices, self.size, context.shape[1])
        return (points + second) / 2.0

    def read_with_mirror(self, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 15, 2) points of ``faces`` and of their mirror images (in the mirror images' pixels), from one call."""
        batch = self._gray_batch(faces)
        points = decode(self.network(_with_mirrors(batch)[..., None]), self.size)
        return points[: len(batch)], points[len(batch) :]

    def average_mirror(
        self, points: np.ndarray, points_on_mirror: np.ndarray, per_face_habit: bool | None = None
    ) -> np.ndarray:
        """Each face's points averaged with its mirror image's, mapped back with the labels' offset (with
        ``per_face_habit``, default the model's own, scaled per face by least squares to how the two reads differ)."""
        plain = mirror_keypoints(points_on_mirror, self.size, 0.0)
        energy = float(np.sum(self.habit**2))
        if not (self.per_face_habit if per_face_habit is None else per_face_habit) or energy == 0:
            return (points + plain + self.habit) / 2.0
        strength = np.einsum("nkc,kc->n", points - plain, self.habit) / energy
        return (points + plain + strength[:, None, None] * self.habit) / 2.0

    def prepare(self, faces: np.ndarray) -> np.ndarray:
        """The network's float32 input batch for ``faces`` (with their mirror images appended when ``tta``)."""
        batch = self._gray_batch(faces)
        return (_with_mirrors(batch) if self.tta else batch)[..., None]

    def finish(self, outputs: np.ndarray, per_face_habit: bool | None = None) -> np.ndarray:
        """(N, 15, 2) crop pixels from the network's outputs on ``prepare``'s batch (``per_face_habit`` as in
        ``average_mirror``)."""
        points = decode(outputs, self.size)
        if self.tta:
            n = len(points) // 2
            points = self.average_mirror(points[:n], points[n:], per_face_habit)
        return points

    def _gray_batch(self, faces: np.ndarray) -> np.ndarray:
        """(N, size, size) float32 faces, checked."""
        batch = as_float_batch(faces)
        if batch.ndim == 4:
            if batch.shape[-1] != 1:
                raise InvalidInputError(f"faces must be gray (1 channel), got {batch.shape[-1]} channels")
            batch = batch[..., 0]
        if batch.shape[1:] != (self.size, self.size):
            raise InvalidInputError(
                f"faces must be {self.size}x{self.size} crops, got {batch.shape[1]}x{batch.shape[2]}; "
                "crop them with facexpr.crop.KEYPOINT_CROP"
            )
        return batch


def _with_mirrors(batch: np.ndarray) -> np.ndarray:
    """(N, H, W) faces followed by their N mirror images."""
    return np.concatenate([batch, batch[:, :, ::-1]])


def config_for(model_path: Path) -> KeypointConfig:
    """The config saved beside a model (``config.json``), else the defaults, with a warning: a model trained with a
    label offset reads mirror-averaged faces differently without it."""
    saved = model_path.parent / "config.json"
    if saved.is_file():
        return KeypointConfig.load(saved)
    logger.warning("%s: no config.json beside it; read with the default settings (no label offset)", model_path)
    return KeypointConfig()


@functools.lru_cache(maxsize=4)
def load_model(path: str | os.PathLike[str] | None = None, tta: bool = True) -> KeypointModel:
    """The keypoints model at ``path`` (default: the shipped weights' LiteRT file; a ``.keras`` file needs
    ``facexpr[train]``), loaded once and cached.

    ``tta`` averages each face with its mirror image, mapped back with the label offset of the config saved beside
    the weights, and reads it a second time where a context crop is given (``KeypointModel.reread``); ``tta=False``
    reads each face once (a quarter of the compute).
    """
    file = Path(path) if path is not None else RUNTIME_FILE
    network = read_network(
        file,
        "keypoints model",
        "The shipped weights install with the package; train your own with `facexpr keypoints train`.",
    )
    return KeypointModel.trained_with(network, config_for(file), tta=tta)


def predict(faces: np.ndarray, model: KeypointModel | None = None, context: np.ndarray | None = None) -> np.ndarray:
    """Keypoints of a batch of 96x96 gray faces: an (N, 15, 2) array of (x, y) in crop pixels (``context``: see
    ``KeypointModel.predict``)."""
    return (model or load_model()).predict(faces, context)

"""Trains an expression classifier: fit on Training, pick the checkpoint on PublicTest, never touch PrivateTest."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import keras
import numpy as np

from expressions.augment import ExpressionAugmenter
from expressions.config import ExpressionConfig
from expressions.datasets import ExpressionSamples, load_fer2013
from expressions.inference import ExpressionModel
from expressions.model import HEAD, build_model
from expressions.presets import Preset, class_columns, get_preset
from pipeline.rows import OnError
from pipeline.training import ShuffledBatches, cosine_schedule, fit_configured, seed_everything, transfer_weights

TRAIN_SPLIT, SELECT_SPLIT = "Training", "PublicTest"
#: Quick mode (tests, notebook): this many real faces of each class from each split.
QUICK_PER_CLASS = 24


@dataclass
class LabelledFaces:
    """Faces of one split mapped to a preset: images, preset class indices and source rows."""

    images: np.ndarray  # (N, S, S) uint8
    targets: np.ndarray  # (N,) index into the preset's classes
    rows: np.ndarray  # (N,) row in fer2013.csv
    usage: str


def preset_faces(samples: ExpressionSamples, preset: Preset, usage: str, size: int) -> LabelledFaces:
    """One split's faces that ``preset`` keeps, resized to ``size`` if needed."""
    part = samples.split(usage)
    targets, keep = preset.map_labels(part.labels)
    images = part.images[keep]
    if size != images.shape[1]:
        images = np.stack([cv2.resize(face, (size, size), interpolation=cv2.INTER_LINEAR) for face in images])
    return LabelledFaces(images, targets, part.rows[keep], usage)


def quick_subset(faces: LabelledFaces, per_class: int = QUICK_PER_CLASS) -> LabelledFaces:
    """The first ``per_class`` faces of every class."""
    chosen = np.concatenate([np.flatnonzero(faces.targets == c)[:per_class] for c in np.unique(faces.targets)])
    chosen.sort()
    return LabelledFaces(faces.images[chosen], faces.targets[chosen], faces.rows[chosen], faces.usage)


def class_weights(targets: np.ndarray, num_classes: int, power: float) -> np.ndarray:
    """Per-class weights ~ (1 / frequency) ** power, scaled so the average training sample weighs 1."""
    counts = np.bincount(targets, minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** power, 0.0)
    return weights / np.mean(weights[targets])


class AugmentedExpressions(ShuffledBatches):
    """Batches of augmented faces, one-hot targets and class-balancing sample weights, reshuffled every epoch."""

    def __init__(self, faces: LabelledFaces, config: ExpressionConfig, num_classes: int) -> None:
        super().__init__(len(faces.targets), config.batch_size, config.seed)
        self.faces, self.num_classes = faces, num_classes
        self.weights = class_weights(faces.targets, num_classes, config.class_weight_power)[faces.targets]
        self.augment = ExpressionAugmenter(config)

    def make_batch(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        images = np.stack([self.augment(self.faces.images[i], rng) for i in rows])[..., None]
        onehot = np.eye(self.num_classes, dtype=np.float32)[self.faces.targets[rows]]
        return images, onehot, self.weights[rows].astype(np.float32)


class MirrorAveragedAccuracy:
    """``val_mirror_accuracy``: accuracy on the selection faces read as the shipped models read them, each face
    averaged with its mirror image. Checkpoints are chosen on it."""

    def __init__(self, faces: LabelledFaces, preset: str | Preset) -> None:
        self.faces, self.preset = faces, preset
        self._reader: ExpressionModel | None = None

    def __call__(self, model: keras.Model) -> dict[str, float]:
        if self._reader is None or self._reader.network is not model:
            self._reader = ExpressionModel(model, self.preset, tta=True)  # traced once; reads the current weights
        probs = self._reader.probabilities(self.faces.images)
        return {"val_mirror_accuracy": float(np.mean(probs.argmax(axis=1) == self.faces.targets))}


@dataclass
class TrainResult:
    """The best model of a run (chosen on PublicTest), where it lives, and the faces it was fitted and chosen on."""

    model: keras.Model
    run_dir: Path
    state: dict[str, Any]
    train_faces: LabelledFaces
    select_faces: LabelledFaces


def compiled_model(config: ExpressionConfig, steps_per_epoch: int) -> keras.Model:
    """A fresh classifier compiled with AdamW, warm-up + cosine schedule and label-smoothed cross-entropy."""
    model = build_model(config)
    schedule = cosine_schedule(config.learning_rate, config.epochs, steps_per_epoch, config.warmup_epochs)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=["accuracy"],
        jit_compile=False,
    )
    return model


def transfer_classifier(source: keras.Model, target: keras.Model, preset: str | Preset) -> list[str]:
    """``transfer_weights``, and a seven-class head copied class by class into a head for ``preset``.

    A fer5 stage started from a fer7 network then begins exactly where the fer7 network's fer5 readings are (its
    probabilities restricted to the five classes). A head that cannot serve ``preset`` stays fresh.
    """
    skipped = transfer_weights(source, target)
    if HEAD in skipped:
        try:
            columns = class_columns(int(source.output_shape[-1]), preset)
        except ValueError:
            return skipped
        kernel, bias = source.get_layer(HEAD).get_weights()
        target.get_layer(HEAD).set_weights([kernel[:, columns], bias[columns]])
        skipped.remove(HEAD)
    return skipped


def training_faces(
    config: ExpressionConfig, data_dir: str | os.PathLike[str] | None, quick: bool, on_error: OnError = "raise"
) -> tuple[LabelledFaces, LabelledFaces]:
    """The Training faces to fit and the PublicTest faces to select on; PrivateTest is not returned."""
    samples = load_fer2013(data_dir=data_dir, on_error=on_error, labels=config.labels)
    preset = get_preset(config.preset)
    fit = preset_faces(samples, preset, TRAIN_SPLIT, config.input_size)
    select = preset_faces(samples, preset, SELECT_SPLIT, config.input_size)
    return (quick_subset(fit), quick_subset(select)) if quick else (fit, select)


def train(
    config: ExpressionConfig = ExpressionConfig(),
    run_dir: str | os.PathLike[str] = "runs/expressions",
    data_dir: str | os.PathLike[str] | None = None,
    quick: bool = False,
    resume: bool = True,
    on_error: OnError = "raise",
) -> TrainResult:
    """Train (or resume) an expression model; the checkpoint with the best mirror-averaged PublicTest accuracy is
    kept."""
    if quick:
        config = config.replace(warmup_epochs=0)
    seed_everything(config.seed)
    fit, select = training_faces(config, data_dir, quick, on_error)
    num_classes = get_preset(config.preset).num_classes
    train_data = AugmentedExpressions(fit, config, num_classes)
    val_data = (select.images[..., None].astype(np.float32), np.eye(num_classes, dtype=np.float32)[select.targets])
    model, state = fit_configured(
        config,
        compiled_model,
        train_data,
        val_data,
        run_dir,
        monitor="val_mirror_accuracy",
        mode="max",
        resume=resume,
        transfer=functools.partial(transfer_classifier, preset=config.preset),
        validate=MirrorAveragedAccuracy(select, config.preset),
    )
    return TrainResult(model, Path(run_dir), state, fit, select)

"""Trains an expression classifier: fit on Training, pick the checkpoint on PublicTest, never touch PrivateTest."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from expressions.augment import ExpressionAugmenter, mixup
from expressions.config import ExpressionConfig
from expressions.datasets import ExpressionSamples, ferplus_votes, load_fer2013, with_ferplus_labels
from expressions.faces import LabelledFaces, preset_faces
from expressions.inference import ExpressionModel
from expressions.model import HEAD, build_model
from expressions.presets import FER2013_CLASSES, Preset, can_serve, class_columns, get_preset
from facexpr.datadir import FERPLUS, dataset_file
from facexpr.errors import InvalidInputError
from facexpr.rows import OnError
from facexpr.training import ShuffledBatches, cosine_schedule, fit_configured, seed_everything, transfer_weights

TRAIN_SPLIT, SELECT_SPLIT = "Training", "PublicTest"
#: Quick mode (tests, notebook): this many real faces of each class from each split.
QUICK_PER_CLASS = 24


def ferplus_extra_faces(samples: ExpressionSamples, preset: Preset, size: int, ferplus_csv: Path) -> LabelledFaces:
    """Training faces ``preset`` drops by their FER2013 label (e.g. Fear for fer5) whose FER+ majority names one of its
    classes, labelled by that majority (fer5 gains 2,463: 845 of them FER2013 Fear faces that FER+ calls Sad)."""
    part = samples.split(TRAIN_SPLIT)
    dropped = part.subset(preset.from_fer2013[part.labels] < 0)
    return preset_faces(with_ferplus_labels(dropped, ferplus_csv), preset, TRAIN_SPLIT, size)


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


def blended_targets(
    faces: LabelledFaces, preset: Preset, votes: np.ndarray | None = None, mix: float = 0.0
) -> np.ndarray:
    """(N, C) training targets: one-hot labels, blended by ``mix`` with each face's FER+ vote shares over the
    preset's classes (``votes``: (N, 7) counts in FER2013's order). A face with none of those votes stays one-hot."""
    onehot = np.eye(preset.num_classes, dtype=np.float32)[faces.targets]
    if votes is None or mix == 0.0:
        return onehot
    if not 0.0 <= mix <= 1.0:
        raise InvalidInputError(f"ferplus_mix must lie in [0, 1], not {mix}")
    counts = votes[:, class_columns(len(FER2013_CLASSES), preset)]
    total = counts.sum(axis=1, keepdims=True)
    shares = np.where(total > 0, counts / np.maximum(total, 1.0), onehot)
    return ((1.0 - mix) * onehot + mix * shares).astype(np.float32)


class AugmentedExpressions(ShuffledBatches):
    """Batches of augmented (and, with ``mixup_alpha``, blended) faces, their targets and class-balancing sample
    weights, reshuffled every epoch."""

    def __init__(self, faces: LabelledFaces, config: ExpressionConfig, targets: np.ndarray) -> None:
        super().__init__(len(faces.targets), config.batch_size, config.seed)
        self.faces, self.targets = faces, targets
        self.weights = class_weights(faces.targets, targets.shape[1], config.class_weight_power)[faces.targets]
        self.augment = ExpressionAugmenter(config)
        self.mixup_alpha = config.mixup_alpha

    def make_batch(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        images = np.stack([self.augment(self.faces.images[i], rng) for i in rows])[..., None]
        return mixup(images, self.targets[rows], self.weights[rows].astype(np.float32), self.mixup_alpha, rng)


class MirrorAveragedAccuracy:
    """``val_mirror_accuracy``: accuracy on the selection faces read as the shipped models read them, each face
    averaged with its mirror image. Checkpoints are chosen on it."""

    def __init__(self, faces: LabelledFaces, preset: str | Preset) -> None:
        self.faces, self.preset = faces, preset
        self._reader: ExpressionModel | None = None

    def __call__(self, model: keras.Model) -> dict[str, float]:
        if self._reader is None or self._reader.network.model is not model:
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
    """A fresh classifier compiled with its optimiser, warm-up + cosine schedule and label-smoothed cross-entropy."""
    model = build_model(config)
    schedule = cosine_schedule(config.learning_rate, config.epochs, steps_per_epoch, config.warmup_epochs)
    if config.optimizer == "sgd":
        optimizer = keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True)  # kernels keep their L2 penalty
    else:
        optimizer = keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay)
    model.compile(
        optimizer=optimizer,
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
    outputs = int(source.output_shape[-1])
    if HEAD in skipped and can_serve(outputs, preset):
        columns = class_columns(outputs, preset)
        kernel, bias = source.get_layer(HEAD).get_weights()
        target.get_layer(HEAD).set_weights([kernel[:, columns], bias[columns]])
        skipped.remove(HEAD)
    return skipped


def training_faces(
    config: ExpressionConfig, data_dir: str | os.PathLike[str] | None, quick: bool, on_error: OnError = "raise"
) -> tuple[LabelledFaces, LabelledFaces]:
    """The Training faces to fit and the PublicTest faces to select on; PrivateTest is not returned."""
    samples = load_fer2013(data_dir=data_dir, on_error=on_error, labels=config.labels, aligned=config.aligned)
    preset = get_preset(config.preset)
    fit = preset_faces(samples, preset, TRAIN_SPLIT, config.input_size)
    if config.ferplus_extra:
        fit = fit.joined(ferplus_extra_faces(samples, preset, config.input_size, dataset_file(FERPLUS, data_dir)))
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
    preset = get_preset(config.preset)
    num_classes = preset.num_classes
    votes = ferplus_votes(dataset_file(FERPLUS, data_dir), fit.rows) if config.ferplus_mix else None
    train_data = AugmentedExpressions(fit, config, blended_targets(fit, preset, votes, config.ferplus_mix))
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

"""Trains the keypoints model on person-split face crops, resumable, with a CSV log and loss curves."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from facexpr.rows import OnError
from facexpr.training import ShuffledBatches, cosine_schedule, fit_configured, seed_everything
from keypoints.augment import KeypointAugmenter
from keypoints.config import KeypointConfig
from keypoints.crops import CropSet, load_crops
from keypoints.inference import KeypointModel
from keypoints.losses import LOSSES, pixel_mse
from keypoints.model import build_model
from keypoints.split import Split, split_by_person
from keypoints.targets import encode

#: Quick mode (tests, notebook): a small real subset of the training and validation people.
QUICK_TRAIN, QUICK_VAL = 96, 32


class AugmentedFaces(ShuffledBatches):
    """Batches of freshly augmented training faces and scaled targets, reshuffled every epoch."""

    def __init__(self, crops: CropSet, config: KeypointConfig, face_sets: np.ndarray) -> None:
        super().__init__(len(crops), config.batch_size, config.seed)
        self.context = crops.context
        self.keypoints = crops.context_keypoints()
        self.face_sets = face_sets
        self.config = config
        self.augment = KeypointAugmenter(config)

    def make_batch(self, rows: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        faces, points = zip(
            *(self.augment(self.context[i], self.keypoints[i], rng, self.face_sets[i]) for i in rows), strict=True
        )
        return np.stack(faces)[..., None], encode(np.stack(points), self.config.input_size)


class MirrorAveragedPixelMSE:
    """``val_mirror_pixel_mse``: squared error in crop pixels on the validation people's faces, each read as the
    shipped model reads it (averaged with its mirror image). Checkpoints are chosen on it."""

    def __init__(self, faces: np.ndarray, keypoints: np.ndarray, config: KeypointConfig) -> None:
        self.faces, self.keypoints, self.config = faces, keypoints, config
        self._reader: KeypointModel | None = None

    def __call__(self, model: keras.Model) -> dict[str, float]:
        if self._reader is None or self._reader.network.model is not model:
            self._reader = KeypointModel.trained_with(model, self.config)  # traced once
        errors = np.square(self._reader.predict(self.faces) - self.keypoints)
        return {"val_mirror_pixel_mse": float(np.nanmean(errors))}


@dataclass
class TrainResult:
    """The best model of a run, its config, where the run lives, and the data it used: ``crops`` of every face set,
    ``split`` indices into them, ``face_sets`` the set each crop comes from."""

    model: keras.Model
    config: KeypointConfig
    run_dir: Path
    state: dict[str, Any]
    crops: CropSet
    split: Split
    face_sets: np.ndarray


def training_crops(
    config: KeypointConfig,
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | os.PathLike[str] | None = None,
    on_error: OnError = "raise",
) -> tuple[CropSet, Split, np.ndarray]:
    """The crops of ``config.faces`` (or of a Kaggle CSV) around ``config.detector``'s boxes, each set split by its
    own people or photos with ``config``'s seeded split, joined into one set: (crops, split, the face set of each
    crop)."""
    names = ("kaggle",) if kaggle_csv else config.faces
    sets, splits, offset = [], [], 0
    for name in names:
        crops = load_crops(data_dir, kaggle_csv, on_error, config.detector, faces="youtube" if kaggle_csv else name)
        split = split_by_person(crops.groups, config.test_fraction, config.val_fraction, config.split_seed)
        sets.append(crops)
        splits.append([rows + offset for rows in (split.train, split.val, split.test)])
        offset += len(crops)
    joined = Split(*(np.concatenate(rows) for rows in zip(*splits, strict=True)))
    face_sets = np.repeat(np.array(names), [len(crops) for crops in sets])
    return CropSet.concat(sets), joined, face_sets


def balanced_rows(rows: np.ndarray, face_sets: np.ndarray) -> np.ndarray:
    """``rows`` with each face set's rows repeated (whole times, then a leading part) to as many as the largest
    set has."""
    parts = [rows[face_sets[rows] == name] for name in dict.fromkeys(face_sets[rows])]
    largest = max(len(part) for part in parts)
    return np.concatenate([np.resize(part, largest) for part in parts])


def balanced_collections(rows: np.ndarray, face_sets: np.ndarray, collections: np.ndarray) -> np.ndarray:
    """``rows`` with the wild photos' ``collections`` (``CropSet.collections``) balanced by ``balanced_rows``; other
    face sets' rows unchanged."""
    wild = face_sets[rows] == "wild"
    return np.concatenate([rows[~wild], balanced_rows(rows[wild], collections)]) if wild.any() else rows


def compiled_model(config: KeypointConfig, steps_per_epoch: int) -> keras.Model:
    """A fresh model compiled with AdamW on a warm-up + cosine schedule and the configured masked loss."""
    model = build_model(config)
    schedule = cosine_schedule(config.learning_rate, config.epochs, steps_per_epoch, config.warmup_epochs)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss=LOSSES[config.loss],
        metrics=[pixel_mse],
        jit_compile=False,  # XLA measured slower than plain TF graphs on 2 CPU cores
    )
    return model


def train(
    config: KeypointConfig = KeypointConfig(),
    run_dir: str | os.PathLike[str] = "runs/keypoints",
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | os.PathLike[str] | None = None,
    quick: bool = False,
    resume: bool = True,
    on_error: OnError = "raise",
) -> TrainResult:
    """Train (or resume) a keypoints model on the training people (and photos) of ``config.faces``; checkpoints are
    picked on the validation ones (mirror-averaged pixel MSE), never on the test ones.

    ``quick`` trains on a small real subset (``QUICK_TRAIN`` faces, ``QUICK_VAL`` for validation) without warm-up.
    """
    if quick:
        config = config.replace(warmup_epochs=0)
    seed_everything(config.seed)
    crops, split, face_sets = training_crops(config, data_dir, kaggle_csv, on_error)
    train_rows, val_rows = split.train, split.val
    if quick:  # an equal share of each face set
        names = list(dict.fromkeys(face_sets))
        train_rows, val_rows = (
            np.concatenate([rows[face_sets[rows] == name][: limit // len(names)] for name in names])
            for rows, limit in ((train_rows, QUICK_TRAIN), (val_rows, QUICK_VAL))
        )
    if config.balance_collections:
        train_rows = balanced_collections(train_rows, face_sets, crops.collections())
    if config.balance_faces:
        train_rows = balanced_rows(train_rows, face_sets)
    train_data = AugmentedFaces(crops.subset(train_rows), config, face_sets[train_rows])
    val_faces, val_points = crops.crops[val_rows], crops.keypoints[val_rows]
    val_data = (val_faces[..., None].astype(np.float32), encode(val_points, config.input_size))
    validate = MirrorAveragedPixelMSE(val_faces, val_points, config)
    model, state = fit_configured(
        config, compiled_model, train_data, val_data, run_dir, "val_mirror_pixel_mse", resume=resume, validate=validate
    )
    return TrainResult(model, config, Path(run_dir), state, crops, split, face_sets)

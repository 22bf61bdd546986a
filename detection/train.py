"""Trains the CNN face detector on the training part of wild-faces-68 and YouTube-Faces (never their held-out test
photos and people); the checkpoint is chosen on a validation part of the training photos and people."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from detection.cnn_config import DetectorConfig
from detection.cnn_model import build_detector
from detection.datasets import AnnotatedImage, load_wild_faces, load_youtube_frames
from detection.losses import detection_loss
from detection.split import split_groups
from detection.training_pictures import TrainingPictures, source_pictures
from facexpr.training import cosine_schedule, fit_configured, seed_everything

#: Pictures the checkpoint is chosen on (drawn once, with a fixed seed, from the validation photos and people).
VALIDATION_PICTURES = 256
#: Quick mode (tests, notebook): this many photos and frames of each part.
QUICK_IMAGES = 24


@dataclass
class DetectorParts:
    """The images a detector fits on and chooses its checkpoint on; the test part is left out."""

    fit: list[AnnotatedImage]
    validate: list[AnnotatedImage]


def training_parts(images: list[AnnotatedImage], val_share: float, seed: int) -> DetectorParts:
    """Drop the held-out test groups (``detection.split``), then set ``val_share`` of the remaining groups aside."""
    groups = [image.group for image in images]
    test, validate = split_groups(groups, val_share, seed)
    return DetectorParts(
        [image for image in images if image.group not in test | validate],
        [image for image in images if image.group in validate],
    )


def compiled_detector(config: DetectorConfig, steps_per_epoch: int) -> keras.Model:
    """A fresh detector compiled with AdamW, warm-up + cosine schedule and ``detection_loss``."""
    model = build_detector(config)
    schedule = cosine_schedule(config.learning_rate, config.epochs, steps_per_epoch, config.warmup_epochs)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay),
        loss=detection_loss,
        jit_compile=False,
    )
    return model


@dataclass
class DetectorTrainResult:
    """The best detector of a run (by validation loss), where it lives, and the run state."""

    model: keras.Model
    run_dir: Path
    state: dict[str, Any]


def train_detector(
    config: DetectorConfig,
    run_dir: str | os.PathLike[str] = "runs/detector",
    data_dir: str | os.PathLike[str] | None = None,
    quick: bool = False,
    resume: bool = True,
) -> DetectorTrainResult:
    """Train (or resume) the detector; the checkpoint with the lowest validation loss is kept."""
    if quick:
        config = config.replace(pictures_per_epoch=min(config.pictures_per_epoch, 2 * config.batch_size))
    seed_everything(config.seed)
    wild = training_parts(load_wild_faces(data_dir), config.val_share, config.seed)
    youtube = training_parts(load_youtube_frames(data_dir), config.val_share, config.seed)
    if quick:
        wild, youtube = (DetectorParts(p.fit[:QUICK_IMAGES], p.validate[:QUICK_IMAGES]) for p in (wild, youtube))
    train_data = TrainingPictures(source_pictures(wild.fit, True), source_pictures(youtube.fit, False), config)
    held = TrainingPictures(source_pictures(wild.validate, True), source_pictures(youtube.validate, False), config)
    count = QUICK_IMAGES if quick else VALIDATION_PICTURES
    val_data = held.make_batch(np.arange(count), np.random.default_rng([config.seed, 1_000_003]))
    model, state = fit_configured(
        config, compiled_detector, train_data, val_data, run_dir, monitor="val_loss", mode="min", resume=resume
    )
    return DetectorTrainResult(model, Path(run_dir), state)

"""``facexpr align-fer2013``: FER2013's eye centres read by the keypoint model and cached, for the aligned expression
networks' training and evaluation (the expression stage cannot import the keypoint stage; this layer joins them)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

import keypoints
from expressions.datasets import load_fer2013
from expressions.eyes import register_eye_reader, write_eyes
from facexpr.checksum import sha256_file
from facexpr.cliflags import add_command, add_data_flag
from facexpr.crop import resized_points
from facexpr.datadir import FER2013, dataset_file
from facexpr.rows import OnError
from keypoints.inference import RUNTIME_FILE, KeypointModel

BATCH = 512
#: The keypoint model's 96x96 input, as the pipeline's keypoint crop of the same square is to its 48x48 expression crop.
READ_SIZE = 96


def face_eyes(faces: np.ndarray, model: KeypointModel | None = None) -> np.ndarray:
    """(N, 2, 2) left and right eye centres of (N, S, S) gray faces, in their pixels, read by the keypoint model on
    each face enlarged to 96x96, as the pipeline reads the eyes that align its crops."""
    size = faces.shape[1]
    enlarged = np.stack([cv2.resize(face, (READ_SIZE, READ_SIZE), interpolation=cv2.INTER_LINEAR) for face in faces])
    return resized_points((model or keypoints.load_model()).predict_with_eyes(enlarged)[1], READ_SIZE, size)


def all_eyes(faces: np.ndarray, progress: bool = True) -> np.ndarray:
    """``face_eyes`` of many faces, in batches, with a progress bar (the reader the pipeline registers)."""
    batches = range(0, len(faces), BATCH)
    read = [face_eyes(faces[i : i + BATCH]) for i in tqdm(batches, desc="reading eyes", disable=not progress)]
    return np.concatenate(read) if read else np.zeros((0, 2, 2), np.float32)


def reader_identity() -> str:
    """What names the shipped keypoint model as FER2013's eye reader: its runtime file's checksum and how the eyes are
    read (``KeypointModel.predict_with_eyes``)."""
    return f"keypoints {sha256_file(RUNTIME_FILE)[:16]}, eyes with one label habit"


def register_reader() -> None:
    """Register the shipped keypoint model as FER2013's eye reader (``expressions.eyes``)."""
    register_eye_reader(all_eyes, reader_identity)  # the checksum is taken only when eyes are needed


def write_fer_eyes(
    data_dir: str | os.PathLike[str] | None = None, on_error: OnError = "raise", progress: bool = True
) -> Path:
    """Read and cache the eye centres of every FER2013 face; returns the cache file."""
    samples = load_fer2013(data_dir=data_dir, on_error=on_error)
    eyes = all_eyes(samples.images, progress)
    return write_eyes(dataset_file(FER2013, data_dir), samples.rows, eyes, reader_identity())


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``align-fer2013`` command."""
    command = add_command(
        subparsers,
        "align-fer2013",
        _align,
        "Read the eye centres of every FER2013 face with the shipped keypoint model and cache them (about a minute), "
        "so `facexpr expressions train --aligned` and the aligned networks' reports can align the faces.",
        "facexpr align-fer2013 --data ../shared/data",
    )
    add_data_flag(command)


def _align(args: argparse.Namespace) -> int:
    print(f"wrote {write_fer_eyes(args.data, args.on_error)}")
    return 0

"""Evaluation of an expression model on a FER2013 split or a labelled image folder, as a classification report."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from expressions.datasets import load_fer2013
from expressions.faces import preset_faces
from expressions.folders import load_image_folder
from expressions.inference import ExpressionModel, load_model
from expressions.report import write_report
from expressions.views import SINGLE_SCALE
from facexpr.rows import OnError

REPORT_SPLIT = "PrivateTest"
BATCH = 256


def predict_all(model: ExpressionModel, faces: np.ndarray, progress: bool = True) -> np.ndarray:
    """Predicted class index of every face, in batches, with a progress bar."""
    predicted = []
    for start in tqdm(range(0, len(faces), BATCH), desc="classifying", unit="batch", disable=not progress):
        predicted.append(model.probabilities(faces[start : start + BATCH]).argmax(axis=1))
    return np.concatenate(predicted) if predicted else np.zeros(0, dtype=int)


def evaluate(
    model: ExpressionModel,
    out_dir: str | os.PathLike[str] | None = None,
    split: str = REPORT_SPLIT,
    folder: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    labels: str = "fer2013",
    on_error: OnError = "raise",
    progress: bool = True,
) -> dict[str, Any]:
    """Classification report of ``model`` on a FER2013 ``split`` (default PrivateTest) or a labelled ``folder``."""
    faces, truth, title, extra = labelled_faces(model, split, folder, data_dir, labels, on_error)
    extra.update(mirror_tta=model.tta, scales=list(model.scales))
    return write_report(truth, predict_all(model, faces, progress), model.preset.classes, out_dir, title, extra)


def labelled_faces(
    model: ExpressionModel,
    split: str = REPORT_SPLIT,
    folder: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    labels: str = "fer2013",
    on_error: OnError = "raise",
) -> tuple[np.ndarray, np.ndarray, str, dict[str, Any]]:
    """The faces ``model`` reads (a FER2013 ``split`` or a labelled ``folder``, kept to its preset's classes and at
    its input size), their class indices, a title and where they came from."""
    preset = model.preset
    if folder is not None:
        faces, truth, _, problems = load_image_folder(folder, preset, model.size)
        return faces, truth, f"{preset.name} on {Path(folder).name}", {"source": str(folder), "unreadable": problems}
    samples = load_fer2013(data_dir=data_dir, on_error=on_error, labels=labels)
    part = preset_faces(samples, preset, split, model.size)
    title = f"{preset.name} on FER2013 {split}" + ("" if labels == "fer2013" else f", {labels} labels")
    return part.images, part.targets, title, {"split": split, "labels": labels}


def evaluate_model_file(
    preset: str,
    model_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str] | None,
    tta: bool = True,
    scales: Sequence[float] = SINGLE_SCALE,
    **kwargs: Any,
) -> dict[str, Any]:
    """Evaluate the shipped model of ``preset`` (or the .keras file at ``model_path``), read with ``tta`` (mirror
    averaging) at ``scales``."""
    model = load_model(preset, str(model_path) if model_path else None, tta, scales)
    return evaluate(model, out_dir, **kwargs)

"""Evaluation of an expression model on a FER2013 split or a labelled image folder, as a classification report."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from expressions.abstention import THRESHOLDS, read_correctly, tradeoff, tradeoff_figure
from expressions.calibration import (
    ECE_BINS,
    calibration_bins,
    ece_if_calibrated,
    expected_calibration_error,
    reliability_figure,
)
from expressions.datasets import ExpressionSamples, load_fer2013
from expressions.faces import preset_faces
from expressions.folders import load_image_folder
from expressions.inference import Abstainer, ExpressionModel, load_model
from expressions.reading import with_temperature
from expressions.report import write_report
from expressions.views import SINGLE_SCALE
from facexpr.atomic import write_text
from facexpr.figures import save_figure
from facexpr.rows import OnError

REPORT_SPLIT = "PrivateTest"
BATCH = 256


def probabilities_all(model: ExpressionModel, faces: np.ndarray, progress: bool = True) -> np.ndarray:
    """(N, C) class probabilities of every face, in batches, with a progress bar."""
    probs = [
        model.probabilities(faces[start : start + BATCH])
        for start in tqdm(range(0, len(faces), BATCH), desc="classifying", unit="batch", disable=not progress)
    ]
    return np.concatenate(probs) if probs else np.zeros((0, model.preset.num_classes), dtype=np.float32)


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
    probs = probabilities_all(model, faces, progress)
    extra["calibration"] = calibration_report(model, probs, truth, out_dir, title)
    if model.abstainer is not None and folder is None:

        def split_faces(aligned: bool) -> ExpressionSamples:
            return load_fer2013(data_dir=data_dir, on_error=on_error, labels=labels, aligned=aligned).split(split)

        samples = split_faces(model.aligned)
        framed = split_faces(False).images if model.aligned and model.abstainer.both_framings else None
        extra["abstention"] = abstention_report(
            model, model.abstainer, probs, samples.images, samples.labels, out_dir, title, framed
        )
    return write_report(truth, probs.argmax(axis=1), model.preset.classes, out_dir, title, extra)


def calibration_report(
    model: ExpressionModel, probs: np.ndarray, truth: np.ndarray, out_dir: str | os.PathLike[str] | None, title: str
) -> dict[str, Any]:
    """Expected calibration error of the probabilities as read and as the network alone reads them (undoing the
    model's temperature); with ``out_dir`` also reliability.png."""
    network = with_temperature(probs, 1.0 / model.temperature)
    floor, floor_sd = ece_if_calibrated(probs) if len(truth) else (0.0, 0.0)
    result = {
        "ece": expected_calibration_error(probs, truth),
        "ece_network": expected_calibration_error(network, truth),
        "ece_if_calibrated": floor,
        "ece_if_calibrated_sd": floor_sd,
        "temperature": model.temperature,
        "bins": calibration_bins(probs, truth),
    }
    print(
        f"expected calibration error ({ECE_BINS} bins): {result['ece']:.4f} at temperature {model.temperature:.3f} "
        f"(the network alone: {result['ece_network']:.4f}; a perfectly calibrated reading of these {len(truth)} "
        f"faces would show {floor:.4f} +- {floor_sd:.4f})"
    )
    if out_dir is not None and len(truth):
        readings = {f"temperature {model.temperature:.3f}": (probs, truth), "the network alone": (network, truth)}
        save_figure(reliability_figure(readings, f"{title}: reliability"), Path(out_dir) / "reliability.png")
    return result


def abstention_report(
    model: ExpressionModel,
    abstainer: Abstainer,
    kept_probabilities: np.ndarray,
    images: np.ndarray,
    fer2013_labels: np.ndarray,
    out_dir: str | os.PathLike[str] | None,
    title: str,
    framed: np.ndarray | None = None,
) -> dict[str, Any]:
    """How ``model``'s ``abstainer`` reads every face of a split (``images``, and ``framed``: the same faces before
    eye alignment; ``kept_probabilities``: the model's reading of those the preset keeps, as the report read them):
    correct labels kept and out-of-preset faces left unlabelled at its threshold and across thresholds; with
    ``out_dir`` also abstention.csv and abstention.png."""
    correct = read_correctly(kept_probabilities, fer2013_labels, model.preset)
    scores = abstainer.scores(images, framed)
    chosen = tradeoff(scores, correct, fer2013_labels, model.preset, np.array([abstainer.threshold])).iloc[0]
    table = tradeoff(scores, correct, fer2013_labels, model.preset, THRESHOLDS)
    outside = [c for c in chosen.index if c.endswith("_unlabelled") and c != "out_of_preset_unlabelled"]
    deciding = abstainer.model.classes[abstainer.column]
    print(
        f"no label above seven-class {deciding} probability {abstainer.threshold:.3f}: "
        f"{chosen['kept_correct']:.1%} of the correctly read faces keep their label; "
        + ", ".join(f"{1 - chosen[c]:.1%} of {c.removesuffix('_unlabelled')} faces get one" for c in outside)
    )
    if out_dir is not None:
        write_text(Path(out_dir) / "abstention.csv", table.to_csv(index=False))
        save_figure(tradeoff_figure(table, chosen, f"{title}: no label"), Path(out_dir) / "abstention.png")
    return {"at_threshold": chosen.to_dict(), "tradeoff": table.to_dict(orient="records")}


def labelled_faces(
    model: ExpressionModel,
    split: str = REPORT_SPLIT,
    folder: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    labels: str = "fer2013",
    on_error: OnError = "raise",
) -> tuple[np.ndarray, np.ndarray, str, dict[str, Any]]:
    """The faces ``model`` reads (a FER2013 ``split`` or a labelled ``folder``, kept to its preset's classes and at
    its input size; FER2013's aligned for an aligned model, a folder's as they are), their class indices, a title and
    where they came from."""
    preset = model.preset
    if folder is not None:
        faces, truth, _, problems = load_image_folder(folder, preset, model.size)
        return faces, truth, f"{preset.name} on {Path(folder).name}", {"source": str(folder), "unreadable": problems}
    samples = load_fer2013(data_dir=data_dir, on_error=on_error, labels=labels, aligned=model.aligned)
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

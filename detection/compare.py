"""``facexpr detect compare``: two face detectors on the same images of one part of each detection set, with the
95% intervals of their recall and false-alarm differences over whole photos or people (the detector's ship test)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from detection.datasets import AnnotatedImage, load_wild_faces, load_youtube_frames
from detection.detectors import FaceDetector
from detection.evaluate import ImageResult, evaluate_images
from detection.split import select_part
from facexpr.atomic import write_json
from facexpr.intervals import group_interval

#: The sets compared and what their images are grouped by (the split's unit).
SETS = {"wild-faces-68": ("photos", load_wild_faces), "youtube-faces": ("people", load_youtube_frames)}


def group_counts(results: list[ImageResult], groups: np.ndarray) -> dict[str, np.ndarray]:
    """Per group (in ``np.unique`` order): its images, faces, faces found and false alarms (IoU >= 0.5)."""
    index = np.unique(groups, return_inverse=True)[1]
    per_image = {
        "images": np.ones(len(results)),
        "faces": np.array([len(r.image.landmarks) for r in results], np.float64),
        "found": np.array([r.found("iou").sum() for r in results], np.float64),
        "false_alarms": np.array([r.false_alarms("iou") for r in results], np.float64),
    }
    return {name: np.bincount(index, weights=values) for name, values in per_image.items()}


def count_difference(b: np.ndarray, a: np.ndarray, total: np.ndarray, axis: int) -> np.ndarray:
    """(sum of b - sum of a) / sum of ``total`` along ``axis``: a recall or per-image rate difference."""
    return (b.sum(axis=axis) - a.sum(axis=axis)) / total.sum(axis=axis)


def compare_sets(
    detector_a: FaceDetector, detector_b: FaceDetector, images: list[AnnotatedImage], seed: int = 0
) -> dict[str, Any]:
    """Recall and false alarms per image of both detectors on ``images``, and the 95% intervals of b minus a,
    resampling whole groups with both detectors' counts kept together."""
    groups = np.array([image.group for image in images])
    a = group_counts(evaluate_images(detector_a, images, detector_a.name), groups)
    b = group_counts(evaluate_images(detector_b, images, detector_b.name), groups)
    recall = group_interval((b["found"], a["found"], a["faces"]), count_difference, seed=seed)
    alarms = group_interval((b["false_alarms"], a["false_alarms"], a["images"]), count_difference, seed=seed)
    return {
        "groups": len(a["faces"]),
        "images": len(images),
        "faces": int(a["faces"].sum()),
        "recall_a": float(a["found"].sum() / a["faces"].sum()),
        "recall_b": float(b["found"].sum() / b["faces"].sum()),
        "recall_difference_ci95": list(recall),
        "false_alarms_per_image_a": float(a["false_alarms"].sum() / len(images)),
        "false_alarms_per_image_b": float(b["false_alarms"].sum() / len(images)),
        "false_alarm_difference_ci95": list(alarms),
    }


def verdict(row: dict[str, Any]) -> str:
    """b is better on a set where its recall is higher by the whole interval and its false alarms not higher by
    the whole interval (and the same the other way round)."""
    (r_low, r_high), (f_low, f_high) = row["recall_difference_ci95"], row["false_alarm_difference_ci95"]
    if r_low > 0 and f_low <= 0 or f_high < 0 and r_high >= 0:
        return "b is better"
    if r_high < 0 and f_high >= 0 or f_low > 0 and r_low <= 0:
        return "a is better"
    return "no difference the split can tell"


def compare_detectors(
    detector_a: FaceDetector,
    detector_b: FaceDetector,
    data_dir: str | os.PathLike[str] | None = None,
    part: str = "val",
    out: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Both detectors on ``part`` of wild-faces-68 (grouped by photo) and YouTube-Faces (by person); prints and
    returns each set's figures, intervals and verdict."""
    result: dict[str, Any] = {"a": detector_a.params(), "b": detector_b.params(), "part": part, "sets": {}}
    for name, (grouped_by, load) in SETS.items():
        row = compare_sets(detector_a, detector_b, select_part(load(data_dir), part))
        result["sets"][name] = {"grouped_by": grouped_by, **row, "verdict": verdict(row)}
    table = pd.DataFrame(result["sets"]).T
    for column in ("recall_difference_ci95", "false_alarm_difference_ci95"):
        table[column] = table[column].map(lambda ci: f"{ci[0]:+.3f} to {ci[1]:+.3f}")
    print(f"a = {detector_a.name}, b = {detector_b.name}, on the {part} part (IoU >= 0.5, intervals over groups):")
    columns = ["grouped_by", "groups", "faces", "recall_a", "recall_b", "recall_difference_ci95"]
    columns += ["false_alarms_per_image_a", "false_alarms_per_image_b", "false_alarm_difference_ci95", "verdict"]
    print(table[columns].to_string(float_format=lambda v: f"{v:.3f}"))
    if out is not None:
        write_json(Path(out), result)
    return result

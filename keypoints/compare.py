"""``facexpr keypoints compare``: two keypoint models on the same faces of one part of a face set, with the
interval of their RMSE difference over people (or photos); a retrained model ships only where it lies below zero."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from detection.choice import DEFAULT_DETECTOR
from facexpr.atomic import write_json
from keypoints.constants import GROUPED_BY
from keypoints.evaluate import heldout_title, split_crops
from keypoints.inference import MODEL_FILE, config_for, load_model
from keypoints.metrics import keypoint_metrics, rmse_difference_interval


def compare_models(
    model_a: str | os.PathLike[str] | None,
    model_b: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    faces: str = "youtube",
    part: str = "val",
    detector: str = DEFAULT_DETECTOR,
    out: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Both models (``model_a`` default: the shipped one) read the same crops of ``part`` of ``faces`` (split as
    ``model_a``'s config splits them), each as the pipeline reads it (mirror-averaged, and read again re-aligned,
    ``KeypointModel.reread``); returns and prints their metrics and the 95% interval of RMSE(b) - RMSE(a),
    resampling whole people or photos."""
    path_a = Path(model_a) if model_a else MODEL_FILE
    crops = split_crops(config_for(path_a), data_dir, part=part, detector=detector, faces=faces)
    readers = (load_model(str(model_a) if model_a else None, tta=True), load_model(str(model_b), tta=True))
    predicted = [reader.predict(crops.crops, crops.context) for reader in readers]
    rows = {}
    for name, points in zip(("a", "b"), predicted, strict=True):
        rows[name] = keypoint_metrics(points, crops.keypoints)[0]
    low, high = rmse_difference_interval(*predicted, crops.keypoints, crops.groups)
    result = {
        "faces": faces,
        "part": part,
        "groups": int(len(set(crops.groups))),
        "a": {"model": str(path_a), **rows["a"]},
        "b": {"model": str(model_b), **rows["b"]},
        "rmse_difference_ci95": [low, high],
        "b_better": high < 0,
    }
    table = pd.DataFrame([result["a"], result["b"]], index=["a", "b"])[["model", "faces", "rmse_px", "nme"]]
    groups = GROUPED_BY[faces]
    print(f"Keypoints on {heldout_title(part, faces)}, {result['groups']} {groups}:")
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    verdict = "b is better" if high < 0 else ("a is better" if low > 0 else "no difference the split can tell")
    print(f"RMSE(b) - RMSE(a): 95% interval {low:+.3f} to {high:+.3f} px, resampling whole {groups}: {verdict}")
    if out is not None:
        write_json(Path(out), result)
    return result

"""Two expression models read the same faces: each one's accuracy, macro and weighted F1, and an exact McNemar test
of the faces only one of them gets right (do they split evenly, as chance would have them, or not)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from expressions.evaluate import labelled_faces, probabilities_all
from expressions.inference import load_model
from expressions.report import summary
from expressions.views import SINGLE_SCALE
from facexpr.atomic import write_json, write_text
from facexpr.errors import InvalidInputError
from facexpr.rows import OnError

SELECTION_SPLIT = "PublicTest"


def paired_counts(truth: np.ndarray, predicted_a: np.ndarray, predicted_b: np.ndarray) -> dict[str, Any]:
    """How many faces both, only A, only B or neither gets right, and the exact (binomial) McNemar p-value of the
    faces only one gets right; 1.0 where there are none."""
    right_a, right_b = predicted_a == truth, predicted_b == truth
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(~right_a & right_b))
    return {
        "faces": len(truth),
        "both_right": int(np.sum(right_a & right_b)),
        "only_a_right": only_a,
        "only_b_right": only_b,
        "both_wrong": int(np.sum(~right_a & ~right_b)),
        "mcnemar_p": float(binomtest(only_a, only_a + only_b).pvalue) if only_a + only_b else 1.0,
    }


def compare_models(
    preset: str,
    model_a: str | os.PathLike[str],
    model_b: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    split: str = SELECTION_SPLIT,
    folder: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    labels: str = "fer2013",
    tta: bool = True,
    scales: Sequence[float] = SINGLE_SCALE,
    on_error: OnError = "raise",
    scales_b: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Read the same faces with two .keras models of ``preset`` (each at its own input size); print and, with
    ``out_dir``, write compare.json and compare.csv (one row per model). Defaults to the selection split, PublicTest:
    choose between models there and read PrivateTest once, for the one chosen. Both read each face at ``scales``
    unless ``scales_b`` gives B its own: naming one model twice then compares two readings of it."""
    rows, predictions, truth = [], [], None
    readings = {"A": tuple(scales), "B": tuple(scales if scales_b is None else scales_b)}
    for path, zooms in zip((model_a, model_b), readings.values(), strict=True):
        model = load_model(preset, str(path), tta, zooms)
        faces, model_truth, title, extra = labelled_faces(model, split, folder, data_dir, labels, on_error)
        if truth is not None and not np.array_equal(truth, model_truth):
            raise InvalidInputError(f"{path} read other faces than {model_a}: compare models of one preset")
        truth = model_truth
        predicted = probabilities_all(model, faces).argmax(axis=1)
        predictions.append(predicted)
        headline = summary(truth, predicted, model.preset.classes)
        headline.pop("faces")
        rows.append({"model": str(path), "input_size": model.size, "views": model.views, **headline})
    table = pd.DataFrame(rows, index=pd.Index(["A", "B"], name="name"))
    result = {
        "title": title,
        **extra,
        "mirror_tta": tta,
        "scales": {name: list(zooms) for name, zooms in readings.items()},
        "models": table.reset_index().to_dict("records"),
    }
    result.update(paired_counts(truth, *predictions))
    print(f"Comparison: {title}\n{table.to_string(float_format='{:.4f}'.format)}")
    print(
        f"right only by A: {result['only_a_right']}, only by B: {result['only_b_right']} "
        f"(of {result['faces']} faces); exact McNemar p = {result['mcnemar_p']:.3g}"
    )
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "compare.json", result)
        write_text(out / "compare.csv", table.to_csv())
        print(f"wrote {out}/compare.json, compare.csv")
    return result

"""Keypoint accuracy measures: RMSE in crop pixels (the Kaggle metric), NME and the share of points within 2/4 px."""

from __future__ import annotations

import numpy as np
import pandas as pd

from facexpr.errors import InvalidInputError
from facexpr.intervals import group_interval
from keypoints.constants import KEYPOINT_NAMES, NME_NORMALISERS
from keypoints.geometry import mirror_keypoints

THRESHOLDS_PX = (2.0, 4.0)


def keypoint_metrics(predicted: np.ndarray, truth: np.ndarray) -> tuple[dict[str, float], pd.DataFrame]:
    """Overall metrics and a per-keypoint table for (N, 15, 2) predictions against truth (NaN = missing).

    RMSE is over every present coordinate, in pixels of the crop the model sees (96x96 by default).
    NME is the mean point-to-point error divided by the outer-eye-corner distance of each face.
    Bias is the mean signed error (prediction minus truth) in x and y: a model that sits consistently off the
    labels shows it there, where RMSE only grows.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if predicted.shape != truth.shape or predicted.shape[1:] != (len(KEYPOINT_NAMES), 2):
        raise InvalidInputError(f"expected matching (N, 15, 2) arrays, got {predicted.shape} and {truth.shape}")
    error = predicted - truth
    squared = error**2
    distance = np.sqrt(squared.sum(axis=-1))  # NaN where the point is missing
    left, right = NME_NORMALISERS
    eye_span = np.linalg.norm(truth[:, left] - truth[:, right], axis=-1)
    overall = {
        "faces": int(len(truth)),
        "points": int(np.isfinite(distance).sum()),
        "rmse_px": float(np.sqrt(np.nanmean(squared))),
        "mean_error_px": float(np.nanmean(distance)),
        "nme": float(np.nanmean(distance / eye_span[:, None])),
        "bias_x_px": float(np.nanmean(error[..., 0])),
        "bias_y_px": float(np.nanmean(error[..., 1])),
    }
    table = pd.DataFrame(
        {
            "keypoint": KEYPOINT_NAMES,
            "rmse_px": np.sqrt(np.nanmean(squared, axis=(0, 2))),
            "mean_error_px": np.nanmean(distance, axis=0),
            "bias_x_px": np.nanmean(error[..., 0], axis=0),
            "bias_y_px": np.nanmean(error[..., 1], axis=0),
        }
    )
    for threshold in THRESHOLDS_PX:
        within = np.where(np.isfinite(distance), distance <= threshold, np.nan)
        overall[f"within_{threshold:g}px"] = float(np.nanmean(within))
        table[f"within_{threshold:g}px"] = np.nanmean(within, axis=0)
    return overall, table


def rmse_interval(
    predicted: np.ndarray, truth: np.ndarray, groups: np.ndarray, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """The bootstrap (BCa) interval of the RMSE when whole people are resampled: a person's faces are alike, so the
    people, not the faces, are the independent draws. Needs two or more people."""
    (sums,), counts = _squared_error_per_person([predicted], truth, groups)
    return group_interval(
        (sums, counts), lambda s, c, axis: np.sqrt(s.sum(axis=axis) / c.sum(axis=axis)), confidence, seed
    )


def rmse_difference_interval(
    predicted_a: np.ndarray,
    predicted_b: np.ndarray,
    truth: np.ndarray,
    groups: np.ndarray,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """The bootstrap (BCa) interval of RMSE(b) - RMSE(a) on the same faces, whole people (or photos) resampled with
    both models' errors kept together: a model is better where the whole interval lies below zero."""
    sums, counts = _squared_error_per_person([predicted_a, predicted_b], truth, groups)

    def difference(a: np.ndarray, b: np.ndarray, c: np.ndarray, axis: int) -> np.ndarray:
        return np.sqrt(b.sum(axis=axis) / c.sum(axis=axis)) - np.sqrt(a.sum(axis=axis) / c.sum(axis=axis))

    return group_interval((*sums, counts), difference, confidence, seed)


def _squared_error_per_person(
    predictions: list[np.ndarray], truth: np.ndarray, groups: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """Per person: each prediction set's summed squared error over the coordinates all of them place, and how many
    coordinates that is."""
    if len(groups) != len(truth):
        raise InvalidInputError(f"one person per face is needed: {len(groups)} for {len(truth)} faces")
    person = np.unique(np.asarray(groups), return_inverse=True)[1]
    if person.max(initial=0) < 1:
        raise InvalidInputError("an RMSE interval over people needs faces of two or more people")
    squared = [((np.asarray(p, np.float64) - truth) ** 2).reshape(len(truth), -1) for p in predictions]
    present = np.logical_and.reduce([np.isfinite(s) for s in squared])
    sums = [np.bincount(person, weights=np.where(present, s, 0.0).sum(axis=1)) for s in squared]
    return sums, np.bincount(person, weights=present.sum(axis=1))


def mirror_habit(predicted: np.ndarray, predicted_on_mirror: np.ndarray, size: int) -> np.ndarray:
    """(15, 2): half the mean gap between a model's points on faces and its points on their mirror images mapped
    back by plain mirroring. It is how the model places points off mirror symmetry: for a model trained without
    flips, the habit of the labels it learnt (``KeypointConfig.label_offset_px``)."""
    return np.nanmean(predicted - mirror_keypoints(predicted_on_mirror, size), axis=0) / 2.0

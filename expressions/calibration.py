"""Calibrated confidence: temperature scaling fitted on the selection split, expected calibration error, and the
reliability diagram that shows both."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from expressions.reading import with_temperature
from facexpr.figures import plt

#: Confidence bins of the expected calibration error and the reliability diagram.
ECE_BINS = 15
#: Temperatures the fit may choose from: sharper (<1) to softer (>1) than the network's own reading.
TEMPERATURE_RANGE = (0.05, 20.0)


def fit_temperature(probabilities: np.ndarray, targets: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``targets`` (Guo et al., 2017)."""
    rows = np.arange(len(targets))

    def nll(temperature: float) -> float:
        return float(-np.mean(np.log(np.clip(with_temperature(probabilities, temperature)[rows, targets], 1e-12, 1))))

    return float(minimize_scalar(nll, bounds=TEMPERATURE_RANGE, method="bounded").x)


def calibration_bins(probabilities: np.ndarray, targets: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Faces grouped by confidence into ``bins`` equal-width bins: each bin's share, mean confidence and accuracy."""
    confidence = probabilities.max(axis=1)
    right = probabilities.argmax(axis=1) == targets
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    return [
        {
            "low": b / bins,
            "high": (b + 1) / bins,
            "share": float(np.mean(which == b)),
            "confidence": float(confidence[which == b].mean()),
            "accuracy": float(right[which == b].mean()),
        }
        for b in range(bins)
        if np.any(which == b)
    ]


def expected_calibration_error(probabilities: np.ndarray, targets: np.ndarray, bins: int = ECE_BINS) -> float:
    """The faces' share-weighted gap between confidence and accuracy over the confidence bins."""
    table = calibration_bins(probabilities, targets, bins)
    return float(sum(row["share"] * abs(row["confidence"] - row["accuracy"]) for row in table))


def ece_if_calibrated(
    probabilities: np.ndarray, bins: int = ECE_BINS, draws: int = 500, seed: int = 0
) -> tuple[float, float]:
    """Mean and standard deviation of the ECE that a perfectly calibrated reading would show on these faces: each
    face's label drawn from its own probabilities, ``draws`` times. Finite samples leave this much ECE however well
    a reading is calibrated, so a measured ECE is read against it."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(probabilities, axis=1)
    last = probabilities.shape[1] - 1
    errors = [
        expected_calibration_error(
            probabilities, np.minimum((rng.random((len(probabilities), 1)) > cumulative).sum(axis=1), last), bins
        )
        for _ in range(draws)
    ]
    return float(np.mean(errors)), float(np.std(errors))


def reliability_figure(readings: dict[str, tuple[np.ndarray, np.ndarray]], title: str) -> plt.Figure:
    """Accuracy against confidence per bin for each named reading ``(probabilities, targets)``, with its ECE."""
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", label="perfectly calibrated")
    for name, (probabilities, targets) in readings.items():
        table = calibration_bins(probabilities, targets)
        ece = expected_calibration_error(probabilities, targets)
        label = f"{name}, ECE {ece:.3f}"
        ax.plot([r["confidence"] for r in table], [r["accuracy"] for r in table], marker="o", label=label)
    ax.set(xlabel="confidence (mean of the bin)", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1), title=title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig

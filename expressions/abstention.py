"""No label for a face that shows none of the preset's classes: choosing the threshold on the selection split, and
the trade-off a report prints and draws (out-of-preset faces left unlabelled against correct labels kept)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from expressions.presets import FER2013_CLASSES, Preset
from facexpr.figures import plt

#: Thresholds the trade-off table and figure run through.
THRESHOLDS = np.round(np.linspace(0.05, 0.95, 19), 2)


def choose_threshold(scores_of_correct: np.ndarray, min_kept: float) -> float:
    """The lowest threshold at which at least ``min_kept`` of the correctly read faces keep their label."""
    return float(np.quantile(scores_of_correct, min_kept, method="higher"))


def read_correctly(kept_probabilities: np.ndarray, fer2013_labels: np.ndarray, preset: Preset) -> np.ndarray:
    """For every face of a FER2013 split, whether it is a face of the preset's classes that the probabilities read
    correctly; ``kept_probabilities`` are those of the split's faces the preset keeps, in the split's order (as
    ``preset_faces`` gives them)."""
    targets, keep = preset.map_labels(fer2013_labels)
    correct = np.zeros(len(fer2013_labels), dtype=bool)
    correct[np.flatnonzero(keep)] = kept_probabilities.argmax(axis=1) == targets
    return correct


def tradeoff(
    scores: np.ndarray, correct: np.ndarray, fer2013_labels: np.ndarray, preset: Preset, thresholds: np.ndarray
) -> pd.DataFrame:
    """Per threshold: the share of correctly read faces that keep their label, and the share of each out-of-preset
    FER2013 class (and of all of them) left unlabelled."""
    outside = [name for name in FER2013_CLASSES if name not in preset.classes]
    rows = []
    for threshold in thresholds:
        withheld = scores > threshold
        row = {"threshold": float(threshold), "kept_correct": float(1 - withheld[correct].mean())}
        row["out_of_preset_unlabelled"] = float(withheld[preset.from_fer2013[fer2013_labels] < 0].mean())
        for name in outside:
            row[f"{name}_unlabelled"] = float(withheld[fer2013_labels == FER2013_CLASSES.index(name)].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def tradeoff_figure(table: pd.DataFrame, chosen: pd.Series, title: str) -> plt.Figure:
    """Out-of-preset faces left unlabelled against correct labels kept, one point per threshold, the chosen one
    marked."""
    fig, ax = plt.subplots(figsize=(6, 5))
    for column in [c for c in table.columns if c.endswith("_unlabelled")]:
        name = column.removesuffix("_unlabelled").replace("_", " ")
        ax.plot(table["kept_correct"], table[column], marker=".", label=name)
    ax.scatter([chosen["kept_correct"]], [chosen["out_of_preset_unlabelled"]], s=90, color="black", zorder=3)
    point = (chosen["kept_correct"], chosen["out_of_preset_unlabelled"])
    ax.annotate(f"shipped threshold {chosen['threshold']:.3f}", point, textcoords="offset points", xytext=(-150, 8))
    ax.set(xlabel="correctly read faces that keep their label", ylabel="share left unlabelled", title=title)
    ax.set(xlim=(0, 1.02), ylim=(0, 1.02))
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig

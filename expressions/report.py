"""Classification reports: scikit-learn's per-class precision/recall/F1/support, confusion matrices, JSON/CSV/PNG."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import ConfusionMatrixDisplay, classification_report, confusion_matrix, f1_score

from facexpr.atomic import write_json, write_text
from facexpr.figures import plt, save_figure


def classification_table(report: dict[str, Any]) -> pd.DataFrame:
    """scikit-learn's classification report (its ``output_dict`` form) as a DataFrame: classes, then averages."""
    report = dict(report)
    accuracy = report.pop("accuracy")
    table = pd.DataFrame(report).T
    table.loc["accuracy"] = [np.nan, np.nan, accuracy, table.loc["macro avg", "support"]]
    table["support"] = table["support"].astype(int)
    return table


def summary(truth: np.ndarray, predicted: np.ndarray, classes: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, macro F1 and weighted F1 (the headline numbers of a report)."""
    labels = list(range(len(classes)))
    return {
        "faces": int(len(truth)),
        "accuracy": float(np.mean(truth == predicted)),
        "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        "weighted_f1": float(f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)),
    }


def accuracy_interval(truth: np.ndarray, predicted: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of the accuracy: where the true rate plausibly lies, given this many faces."""
    right = int(np.sum(truth == predicted))
    interval = binomtest(right, len(truth)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def confusion_figure(truth: np.ndarray, predicted: np.ndarray, classes: tuple[str, ...], title: str) -> plt.Figure:
    """Two confusion matrices side by side: counts and rows normalised to recall."""
    labels = list(range(len(classes)))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    for ax, normalize, name in ((axes[0], None, "counts"), (axes[1], "true", "row-normalised (recall)")):
        matrix = confusion_matrix(truth, predicted, labels=labels, normalize=normalize)
        display = ConfusionMatrixDisplay(matrix, display_labels=list(classes))
        display.plot(ax=ax, cmap="Blues", colorbar=False, values_format="d" if normalize is None else ".2f")
        ax.set(title=f"{title}: {name}", xlabel="predicted class", ylabel="true class")
        ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return fig


def write_report(
    truth: np.ndarray,
    predicted: np.ndarray,
    classes: tuple[str, ...],
    out_dir: str | os.PathLike[str] | None,
    title: str,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Print the report; with ``out_dir`` also write report.json, report.csv, confusion.csv and confusion.png."""
    labels = list(range(len(classes)))
    options = {"labels": labels, "target_names": list(classes), "zero_division": 0}
    print(f"Classification report: {title}")
    print(classification_report(truth, predicted, digits=4, **options))
    result = {"title": title, "classes": list(classes), **summary(truth, predicted, classes), **(extra or {})}
    if len(truth):
        low, high = result["accuracy_ci95"] = accuracy_interval(truth, predicted)
        print(f"accuracy 95% interval (Wilson, {len(truth)} faces): {low:.4f} to {high:.4f}\n")
    result["report"] = classification_report(truth, predicted, output_dict=True, **options)
    table = classification_table(result["report"])
    result["confusion_matrix"] = confusion_matrix(truth, predicted, labels=labels).tolist()
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "report.json", result)
        write_text(out / "report.csv", table.to_csv(index_label="class"))
        matrix = pd.DataFrame(result["confusion_matrix"], index=list(classes), columns=list(classes))
        write_text(out / "confusion.csv", matrix.to_csv(index_label="true \\ predicted"))
        save_figure(confusion_figure(truth, predicted, classes, title), out / "confusion.png")
        print(f"wrote {out}/report.json, report.csv, confusion.csv, confusion.png")
    return result

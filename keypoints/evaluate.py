"""Evaluation of a keypoints model on the held-out people: printed table, JSON, CSV and pictures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from keypoints.config import KeypointConfig
from keypoints.crops import CropSet
from keypoints.inference import MODEL_FILE, KeypointModel, load_model
from keypoints.metrics import keypoint_metrics
from keypoints.plots import keypoint_grid, per_keypoint_error
from keypoints.split import split_by_person
from keypoints.train import TrainResult, load_crops
from pipeline.atomic import write_json, write_text
from pipeline.figures import save_figure
from pipeline.rows import OnError

GRID_FACES = 18


def heldout_crops(
    config: KeypointConfig,
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | None = None,
    on_error: OnError = "raise",
) -> CropSet:
    """The test people's crops: never trained on, never used to pick a checkpoint."""
    crops = load_crops(data_dir, kaggle_csv, on_error)
    split = split_by_person(crops.groups, config.test_fraction, config.val_fraction, config.split_seed)
    return crops.subset(split.test)


def evaluate_model(
    model: KeypointModel, crops: CropSet, out_dir: str | os.PathLike[str] | None = None, title: str = "held-out people"
) -> dict[str, Any]:
    """Metrics of ``model`` on ``crops``; with ``out_dir``, also write metrics.json, per_keypoint.csv and PNGs."""
    predicted = model.predict(crops.crops)
    overall, table = keypoint_metrics(predicted, crops.keypoints)
    overall.update(
        people=int(len(np.unique(crops.groups))), detected_share=float(np.mean(crops.detected)), flip_tta=model.tta
    )
    print(f"Keypoints on {title}: {overall['faces']} faces of {overall['people']} people")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"RMSE {overall['rmse_px']:.3f} px | NME {overall['nme']:.4f} | "
        f"within 2 px {overall['within_2px']:.1%} | within 4 px {overall['within_4px']:.1%}"
    )
    result = {"overall": overall, "per_keypoint": table.to_dict(orient="records")}
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "metrics.json", result)
        write_text(out / "per_keypoint.csv", table.to_csv(index=False))
        shown = np.linspace(0, len(crops) - 1, min(GRID_FACES, len(crops))).astype(int)
        save_figure(
            keypoint_grid(
                crops.crops[shown],
                crops.keypoints[shown],
                predicted[shown],
                f"Keypoints on {title}: truth vs prediction",
            ),
            out / "grid.png",
        )
        save_figure(per_keypoint_error(table, f"Per-keypoint RMSE on {title}"), out / "errors.png")
        print(f"wrote {out}/metrics.json, per_keypoint.csv, grid.png, errors.png")
    return result


def config_for(model_path: Path) -> KeypointConfig:
    """The config saved beside a model (``config.json``), else the defaults."""
    saved = model_path.parent / "config.json"
    return KeypointConfig.load(saved) if saved.is_file() else KeypointConfig()


def evaluate_heldout(
    model_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | None = None,
    tta: bool = False,
    on_error: OnError = "raise",
) -> dict[str, Any]:
    """Evaluate the shipped (or given) model on the held-out people of its own config's split."""
    path = Path(model_path) if model_path else MODEL_FILE
    crops = heldout_crops(config_for(path), data_dir, kaggle_csv, on_error)
    return evaluate_model(load_model(str(path) if model_path else None, tta=tta), crops, out_dir)


def evaluate_run(result: TrainResult, out_dir: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Evaluate a just-trained run's best model on its held-out people."""
    return evaluate_model(KeypointModel(result.model), result.crops.subset(result.split.test), out_dir)

"""Evaluation of a keypoints model on the held-out people: printed table, JSON, CSV and pictures."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from detection.choice import DEFAULT_DETECTOR
from facexpr.atomic import write_json, write_text
from facexpr.errors import DataFormatError, DataNotFoundError, InvalidInputError
from facexpr.figures import save_figure
from facexpr.rows import OnError
from keypoints.config import KeypointConfig
from keypoints.constants import GROUPED_BY, KEYPOINT_NAMES, SPLIT_PARTS
from keypoints.crops import CropSet, load_crops
from keypoints.inference import MODEL_FILE, KeypointModel, config_for, load_model
from keypoints.metrics import keypoint_metrics, mirror_habit, rmse_interval
from keypoints.plots import keypoint_grid, per_keypoint_error
from keypoints.split import split_by_person

if TYPE_CHECKING:  # training needs Keras; evaluating the shipped model does not
    from keypoints.train import TrainResult

GRID_FACES = 18
HABIT_COLUMNS = ("mirror_habit_x_px", "mirror_habit_y_px")


def split_crops(
    config: KeypointConfig,
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | None = None,
    on_error: OnError = "raise",
    part: str = "test",
    detector: str = DEFAULT_DETECTOR,
    faces: str = "youtube",
) -> CropSet:
    """The crops of one part of ``config``'s person split: by default the test people, never trained on and
    never used to pick a checkpoint ("val" and "train" read the other people, e.g. to compare fit and bias)."""
    if part not in SPLIT_PARTS:
        raise InvalidInputError(f"unknown split part {part!r}; expected one of {tuple(SPLIT_PARTS)}")
    crops = load_crops(data_dir, kaggle_csv, on_error, detector, faces)
    split = split_by_person(crops.groups, config.test_fraction, config.val_fraction, config.split_seed)
    return crops.subset(getattr(split, part))


def evaluate_model(
    model: KeypointModel,
    crops: CropSet,
    out_dir: str | os.PathLike[str] | None = None,
    title: str = "held-out people",
    grouped_by: str = "people",
    sources: np.ndarray | None = None,
) -> dict[str, Any]:
    """Metrics of ``model`` on ``crops`` as the pipeline reads them (with ``tta``: each face mirror-averaged and read
    again re-aligned; also each face's first mirror-averaged read, ``first_read``, and its one plain read,
    ``single_read``), and per source where ``sources`` names each crop's (``per_source``); with ``out_dir``, also
    write metrics.json, per_keypoint.csv and PNGs."""
    points, points_on_mirror = model.read_with_mirror(crops.crops)
    first = model.average_mirror(points, points_on_mirror) if model.tta else points
    predicted = model.reread(first, crops.context) if model.tta else first
    overall, table = keypoint_metrics(predicted, crops.keypoints)
    habit = mirror_habit(points, points_on_mirror, model.size)
    table[HABIT_COLUMNS[0]], table[HABIT_COLUMNS[1]] = habit[:, 0], habit[:, 1]
    overall.update(
        people=int(len(np.unique(crops.groups))), detected_share=float(np.mean(crops.detected)), flip_tta=model.tta
    )
    if overall["people"] > 1:
        overall["rmse_px_ci95"] = rmse_interval(predicted, crops.keypoints, crops.groups)
    print(f"Keypoints on {title}: {overall['faces']} faces of {overall['people']} {grouped_by}")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"RMSE {overall['rmse_px']:.3f} px | NME {overall['nme']:.4f} | "
        f"within 2 px {overall['within_2px']:.1%} | within 4 px {overall['within_4px']:.1%} | "
        f"bias x {overall['bias_x_px']:+.2f} px, y {overall['bias_y_px']:+.2f} px"
    )
    if "rmse_px_ci95" in overall:
        low, high = overall["rmse_px_ci95"]
        print(f"RMSE 95% interval, resampling the {overall['people']} {grouped_by}: {low:.3f} to {high:.3f} px")
    result = {"overall": overall, "per_keypoint": table.to_dict(orient="records")}
    if sources is not None:
        result["per_source"] = per_source(predicted, crops.keypoints, sources)
        print(
            "by source: "
            + "; ".join(
                f"{k} {v['faces']} faces, RMSE {v['rmse_px']:.3f} px, NME {v['nme']:.4f}"
                for k, v in result["per_source"].items()
            )
        )
    if model.tta:  # the same calls read each face in the simpler ways too
        result["first_read"] = keypoint_metrics(first, crops.keypoints)[0]
        result["single_read"] = keypoint_metrics(points, crops.keypoints)[0]
        print(
            f"first read only (mirror-averaged): RMSE {result['first_read']['rmse_px']:.3f} px, "
            f"NME {result['first_read']['nme']:.4f}; read once (no mirror, no second read): RMSE "
            f"{result['single_read']['rmse_px']:.3f} px, NME {result['single_read']['nme']:.4f}"
        )
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


def per_source(predicted: np.ndarray, truth: np.ndarray, sources: np.ndarray) -> dict[str, dict[str, float]]:
    """``keypoint_metrics`` of each source's faces (e.g. HELEN portraits and AFW group photos)."""
    return {
        str(name): keypoint_metrics(predicted[sources == name], truth[sources == name])[0]
        for name in np.unique(sources)
    }


def crop_sources(crops: CropSet, faces: str) -> np.ndarray | None:
    """Each wild-faces-68 crop's collection (``CropSet.collections``); None for other face sets."""
    return crops.collections() if faces == "wild" else None


def evaluate_heldout(
    model_path: str | os.PathLike[str] | None,
    out_dir: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None = None,
    kaggle_csv: str | None = None,
    tta: bool = True,
    on_error: OnError = "raise",
    part: str = "test",
    detector: str = DEFAULT_DETECTOR,
    faces: str = "youtube",
) -> dict[str, Any]:
    """Evaluate the shipped (or given) model on one part (default: the held-out people or photos) of its config's
    split of the ``faces`` set, cropped around the boxes of ``detector`` (by name; default the pipeline's)."""
    path = Path(model_path) if model_path else MODEL_FILE
    crops = split_crops(config_for(path), data_dir, kaggle_csv, on_error, part, detector, faces)
    model = load_model(str(path) if model_path else None, tta=tta)
    return evaluate_model(
        model, crops, out_dir, heldout_title(part, faces), GROUPED_BY[faces], crop_sources(crops, faces)
    )


def heldout_title(part: str, faces: str) -> str:
    """How a report names one part of a face set: "held-out people", "held-out photos (wild)", ..."""
    title = SPLIT_PARTS[part].replace("people", GROUPED_BY.get(faces, "people"))
    return f"{title} (wild)" if faces == "wild" else title


def evaluate_run(result: TrainResult, out_dir: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Evaluate a just-trained run's best model on the held-out people (and photos) of each face set it trained on;
    with several sets, each set's files go to ``out_dir/<set>``."""
    model = KeypointModel.trained_with(result.model, result.config)
    names = list(dict.fromkeys(result.face_sets))
    results = {}
    for name in names:
        rows = result.split.test[result.face_sets[result.split.test] == name]
        where = Path(out_dir) / name if out_dir is not None and len(names) > 1 else out_dir
        title, grouped_by = heldout_title("test", name), GROUPED_BY.get(name, "people")
        results[name] = evaluate_model(model, result.crops.subset(rows), where, title, grouped_by)
    return results


def parse_label_offset(value: str) -> float | tuple[tuple[float, float], ...]:
    """A label offset (``KeypointConfig.label_offset_px``) from a number, a model's ``config.json`` (its offset, e.g.
    the shipped model's for a fine-tuning stage), or the ``per_keypoint.csv`` that evaluating a model trained
    without flips (``--flip-prob 0``) on its training people wrote: its mirror habit.

    Such a model learns the labels as they are, so how it reads a face and its mirror image differently is the
    part of the labels' habit that breaks mirror symmetry, the only part ``mirror_keypoints`` uses.
    """
    try:
        return float(value)
    except ValueError:
        pass
    path = Path(value)
    if not path.is_file():
        raise DataNotFoundError(f"label offset is neither a number nor a file: {value}")
    if path.suffix == ".json":
        return KeypointConfig.load(path).label_offset_px
    table = pd.read_csv(path)
    missing = {"keypoint", *HABIT_COLUMNS} - set(table.columns)
    if missing or set(table["keypoint"]) != set(KEYPOINT_NAMES):
        raise DataFormatError(
            f"{path} is not a keypoint evaluation's per_keypoint.csv (needs {' and '.join(HABIT_COLUMNS)} for "
            f"each of the 15 keypoints; missing columns: {sorted(missing)})"
        )
    habit = table.set_index("keypoint").loc[list(KEYPOINT_NAMES), list(HABIT_COLUMNS)].to_numpy()
    return tuple((round(float(dx), 4), round(float(dy), 4)) for dx, dy in habit)

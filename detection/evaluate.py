"""``facexpr detect evaluate``: a detector's recall, precision, average precision and speed on annotated faces."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from detection.backlit import FACTORS as BACKLIT_FACTORS
from detection.backlit import backlit_picture
from detection.choice import get_detector
from detection.datasets import (
    BOX_SCALE,
    BOX_Y_SHIFT,
    INNER_POINTS,
    AnnotatedImage,
    load_wild_faces,
    load_youtube_frames,
)
from detection.detectors import Detection, FaceDetector, box_contains, box_iou
from detection.split import HELDOUT_SHARE, SPLIT_SEED, select_part
from detection.tiled import GRIDS, TILE, tiled_pictures
from detection.turned import ANGLES, turned_picture
from facexpr.atomic import write_atomic, write_json

IOU_THRESHOLD = 0.5
#: The two ways a detection can find a face: box overlap with the landmark box, or containing the landmark centre.
CRITERIA = ("iou", "centre")
#: Faces by ground-truth box side (pixels) for recall by size.
SIZE_BINS = ((0.0, 40.0), (40.0, 80.0), (80.0, float("inf")))
FRAME_SIZE = (640, 480)
GRID_PANELS = 12
#: scikit-image's bundled pictures that show no face (textures, objects, a cat, microscopy, text, a galaxy field):
#: every box a detector draws on them is a false alarm.
FACELESS = (
    "binary_blobs",
    "brick",
    "cell",
    "checkerboard",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "shepp_logan_phantom",
    "text",
)
NOTES = (
    "AFW leaves small background faces unannotated and HELEN annotates one face per photo: precision on "
    "wild-faces-68 is a lower bound (some false alarms are real faces).",
    "Ground-truth boxes come from the 68 points (detection.datasets.landmark_box); the centre criterion "
    "(a box contains the mean of the 68 points) does not depend on that convention.",
)


@dataclass(frozen=True)
class ImageResult:
    """One image's detections and, per criterion, which face each detection found (-1: a false alarm)."""

    image: AnnotatedImage
    detections: list[Detection]
    matches: dict[str, list[int]]
    ms: float

    def found(self, criterion: str) -> np.ndarray:
        """Per face, whether some detection found it."""
        hit = np.zeros(len(self.image.landmarks), dtype=bool)
        hit[[m for m in self.matches[criterion] if m >= 0]] = True
        return hit

    def false_alarms(self, criterion: str) -> int:
        """Detections that found no face."""
        return sum(m < 0 for m in self.matches[criterion])


def match(detections: list[Detection], boxes: np.ndarray, centres: np.ndarray, criterion: str) -> list[int]:
    """Greedy one-to-one matching: per detection (in the given order) the face it takes, or -1.

    Detections go highest score first, ties largest box first. By ``iou`` a detection takes the free face of
    highest IoU if that is >= ``IOU_THRESHOLD``; by ``centre`` the free face whose landmark centre lies in the box,
    nearest to the box's own centre.
    """
    order = sorted(
        range(len(detections)), key=lambda i: (-detections[i].score, -detections[i].box[2] * detections[i].box[3])
    )
    taken: set[int] = set()
    matches = [-1] * len(detections)
    for i in order:
        box = detections[i].box
        best, best_key = -1, -np.inf
        for face in range(len(boxes)):
            if face in taken:
                continue
            if criterion == "iou":
                key = box_iou(box, tuple(boxes[face]))
                ok = key >= IOU_THRESHOLD
            else:
                ok = box_contains(box, centres[face])
                key = -float(np.hypot(box[0] + box[2] / 2 - centres[face][0], box[1] + box[3] / 2 - centres[face][1]))
            if ok and key > best_key:
                best, best_key = face, key
        if best >= 0:
            taken.add(best)
            matches[i] = best
    return matches


def average_precision(scores: np.ndarray, true: np.ndarray, faces: int) -> float:
    """Area under the interpolated precision-recall curve, with one point per distinct score (ties together).

    With a constant score there is one point, and the area is precision x recall.
    """
    if faces == 0 or len(scores) == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    scores, true = scores[order], true[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(scores) != 0), len(scores) - 1]  # the end of each run of equal scores
    hits = np.cumsum(true)[last]
    recall = np.r_[0.0, hits / faces]
    precision = np.r_[1.0, hits / (last + 1)]
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(recall) * precision[1:]))


def evaluate_images(detector: FaceDetector, images: list[AnnotatedImage], desc: str) -> list[ImageResult]:
    """Run ``detector`` on each image (gray, as the pipeline does) and match its boxes to the faces."""
    results = []
    for image in tqdm(images, desc=desc, unit="image"):
        gray = image.read()
        start = time.perf_counter()
        found = detector.detect(gray)
        ms = (time.perf_counter() - start) * 1000.0
        boxes, centres = image.boxes, image.centres
        matches = {criterion: match(found, boxes, centres, criterion) for criterion in CRITERIA}
        results.append(ImageResult(image, found, matches, ms))
    return results


def set_metrics(results: list[ImageResult]) -> dict[str, Any]:
    """Recall, precision (both criteria), AP at IoU >= 0.5 and recall by face size over one set's images."""
    faces = sum(len(r.image.landmarks) for r in results)
    detections = sum(len(r.detections) for r in results)
    metrics: dict[str, Any] = {"images": len(results), "faces": faces, "detections": detections}
    for criterion in CRITERIA:
        hits = sum(int(r.found(criterion).sum()) for r in results)
        metrics[f"recall_{criterion}"] = hits / faces if faces else 0.0
        metrics[f"precision_{criterion}"] = hits / detections if detections else 0.0
    scores = np.array([d.score for r in results for d in r.detections], dtype=np.float64)
    true = np.array([m >= 0 for r in results for m in r.matches["iou"]], dtype=bool)
    metrics["average_precision_iou"] = average_precision(scores, true, faces)
    metrics["score_constant"] = bool(len(np.unique(scores)) <= 1)
    metrics["false_alarms_per_image_iou"] = sum(r.false_alarms("iou") for r in results) / max(1, len(results))
    sides = np.concatenate([r.image.boxes[:, 2] for r in results]) if results else np.zeros(0)
    found = np.concatenate([r.found("iou") for r in results]) if results else np.zeros(0, dtype=bool)
    metrics["recall_iou_by_face_side"] = {
        f"{low:g}-{high:g}px": {
            "faces": int(inside.sum()),
            "recall": float(found[inside].mean()) if inside.any() else None,
        }
        for low, high in SIZE_BINS
        for inside in [(sides >= low) & (sides < high)]
    }
    sources = np.concatenate([[r.image.source] * len(r.image.landmarks) for r in results]) if results else []
    metrics["recall_iou_by_source"] = {
        str(source): {"faces": int((sources == source).sum()), "recall": float(found[sources == source].mean())}
        for source in np.unique(sources)
    }
    metrics["median_ms_per_image"] = float(np.median([r.ms for r in results])) if results else 0.0
    return metrics


def test_frame() -> np.ndarray:
    """A 640x480 gray frame: scikit-image's astronaut photo (one face) scaled to 480 px high, padded at the sides."""
    from skimage import data

    photo = cv2.cvtColor(cv2.resize(data.astronaut(), (480, 480), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    pad = (FRAME_SIZE[0] - 480) // 2
    return cv2.copyMakeBorder(photo, 0, 0, pad, FRAME_SIZE[0] - 480 - pad, cv2.BORDER_REPLICATE)


def frame_ms(detector: FaceDetector, repeats: int = 30) -> float:
    """Median milliseconds of ``detector.detect`` on the 640x480 test frame, after two warm-up calls."""
    frame = test_frame()
    for _ in range(2):
        detector.detect(frame)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detector.detect(frame)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times))


def per_image_table(results: list[ImageResult]) -> pd.DataFrame:
    """One row per image: faces, detections, faces found and false alarms by each criterion, milliseconds."""
    rows = []
    for r in results:
        row: dict[str, Any] = {"dataset": r.image.dataset, "image": r.image.name, "faces": len(r.image.landmarks)}
        row["detections"] = len(r.detections)
        for criterion in CRITERIA:
            row[f"found_{criterion}"] = int(r.found(criterion).sum())
            row[f"false_alarms_{criterion}"] = r.false_alarms(criterion)
        row["ms"] = round(r.ms, 2)
        rows.append(row)
    return pd.DataFrame(rows)


def _drawn(result: ImageResult) -> np.ndarray:
    """The image in RGB with boxes: faces found green, missed red; detections matched blue, false alarms orange."""
    picture = cv2.imread(str(result.image.path), cv2.IMREAD_COLOR)
    thick = max(1, round(max(picture.shape[:2]) / 250))
    for box, hit in zip(result.image.boxes, result.found("iou"), strict=True):
        x, y, w, h = (int(round(v)) for v in box)
        cv2.rectangle(picture, (x, y), (x + w, y + h), (0, 200, 0) if hit else (0, 0, 255), thick)
    for detection, m in zip(result.detections, result.matches["iou"], strict=True):
        x, y, w, h = detection.box
        cv2.rectangle(picture, (x, y), (x + w, y + h), (255, 120, 0) if m >= 0 else (0, 150, 255), thick)
    return cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)


def save_error_grid(results: list[ImageResult], path: str | os.PathLike[str]) -> int:
    """A grid of the images with the most misses and false alarms (IoU criterion); returns how many it shows."""
    from facexpr.figures import plt, save_figure

    def errors(r: ImageResult) -> int:
        return int((~r.found("iou")).sum()) + r.false_alarms("iou")

    worst = sorted((r for r in results if errors(r)), key=errors, reverse=True)[:GRID_PANELS]
    columns = 4
    rows = max(1, -(-len(worst) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, r in zip(axes.flat, worst, strict=False):
        ax.imshow(_drawn(r))
        misses = int((~r.found("iou")).sum())
        ax.set_title(f"{r.image.name[:28]}\nmissed {misses}, false {r.false_alarms('iou')}", fontsize=7)
    fig.suptitle(
        "misses and false alarms (IoU >= 0.5): faces found green, missed red; detections matched blue, false orange"
        + ("" if worst else "\nnone"),
        fontsize=8,
    )
    fig.tight_layout()
    save_figure(fig, path)
    return len(worst)


def tiled_metrics(detector: FaceDetector, images: list[AnnotatedImage]) -> dict[str, Any]:
    """Per grid of ``detection.tiled.GRIDS`` (``images`` tiled into large pictures): pictures, faces, recall and false
    alarms per picture (IoU >= 0.5), median ms per picture."""
    metrics = {}
    for cols, rows in GRIDS:
        found = faces = alarms = 0
        times = []
        pictures = list(tiled_pictures(images, cols, rows))
        for canvas, boxes, centres in tqdm(pictures, desc=f"tiled {cols}x{rows}", unit="picture"):
            start = time.perf_counter()
            detections = detector.detect(canvas)
            times.append((time.perf_counter() - start) * 1000.0)
            matches = match(detections, boxes, centres, "iou")
            found += sum(m >= 0 for m in matches)
            alarms += sum(m < 0 for m in matches)
            faces += len(boxes)
        metrics[f"{cols * TILE}x{rows * TILE}"] = {
            "pictures": len(pictures),
            "faces": faces,
            "recall_iou": found / faces if faces else float("nan"),
            "false_alarms_per_picture": alarms / len(pictures) if pictures else float("nan"),
            "ms_per_picture": float(np.median(times)) if times else float("nan"),
        }
    return metrics


def altered_metrics(
    detector: FaceDetector,
    sets: dict[str, list[AnnotatedImage]],
    alterations: dict[str, Callable[[AnnotatedImage], tuple[np.ndarray, np.ndarray, np.ndarray]]],
    what: str,
) -> dict[str, Any]:
    """Per set and alteration (a picture turned, a face shaded: each gives the altered picture, its faces' boxes and
    landmark centres): faces counted, recall by both criteria and false alarms per picture (IoU)."""
    metrics: dict[str, Any] = {}
    for name, images in sets.items():
        metrics[name] = {}
        for key, alter in alterations.items():
            found = {criterion: 0 for criterion in CRITERIA}
            faces = alarms = 0
            for image in tqdm(images, desc=f"{name} {what} {key}", unit="image"):
                picture, boxes, centres = alter(image)
                detections = detector.detect(picture)
                matches = {criterion: match(detections, boxes, centres, criterion) for criterion in CRITERIA}
                for criterion, taken in matches.items():
                    found[criterion] += sum(m >= 0 for m in taken)
                alarms += sum(m < 0 for m in matches["iou"])
                faces += len(boxes)
            metrics[name][key] = {
                "faces": faces,
                **{f"recall_{c}": found[c] / faces if faces else float("nan") for c in CRITERIA},
                "false_alarms_per_image_iou": alarms / len(images) if images else float("nan"),
            }
    return metrics


def turned_metrics(detector: FaceDetector, sets: dict[str, list[AnnotatedImage]]) -> dict[str, Any]:
    """``altered_metrics`` per turn of ``detection.turned.ANGLES`` (each picture turned in its plane; faces leaving
    it not counted; the box rule applied to the turned points for IoU)."""
    turns = {f"{degrees:+d}": functools.partial(turned_picture, degrees=degrees) for degrees in ANGLES}
    return altered_metrics(detector, sets, turns, "turned")


def backlit_metrics(detector: FaceDetector, sets: dict[str, list[AnnotatedImage]]) -> dict[str, Any]:
    """``altered_metrics`` per shadow of ``detection.backlit.FACTORS`` (each face darkened in its picture)."""
    shadows = {f"x{factor}": functools.partial(backlit_picture, factor=factor) for factor in BACKLIT_FACTORS}
    return altered_metrics(detector, sets, shadows, "backlit")


def faceless_false_alarms(detector: FaceDetector) -> dict[str, int]:
    """Boxes ``detector`` draws on each of the ``FACELESS`` pictures (gray, long side at most 640 pixels)."""
    import skimage.data

    counts = {}
    for name in FACELESS:
        picture = np.asarray(getattr(skimage.data, name)())
        picture = (picture * 255).astype(np.uint8) if picture.dtype == bool else picture.astype(np.uint8)
        if picture.ndim == 3:
            picture = cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)
        factor = min(1.0, 640 / max(picture.shape))
        if factor < 1.0:
            picture = cv2.resize(picture, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        counts[name] = len(detector.detect(picture))
    return counts


def evaluate_detector(
    detector: FaceDetector | str,
    data_dir: str | os.PathLike[str] | None = None,
    part: str = "test",
    out: str | os.PathLike[str] = "outputs/detect-eval",
) -> dict[str, Any]:
    """Measure a detector (or one named) on both sets' ``part`` and on faceless pictures; write metrics.json,
    per_image.csv and errors.png under ``out``."""
    detector = get_detector(detector) if isinstance(detector, str) else detector
    sets = {"wild-faces-68": select_part(load_wild_faces(data_dir), part)}
    sets["youtube-faces"] = select_part(load_youtube_frames(data_dir), part)
    results = {name: evaluate_images(detector, images, name) for name, images in sets.items()}
    everything = [r for rs in results.values() for r in rs]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, Any] = {
        "detector": detector.params(),
        "part": part,
        "split": {
            "by": {"wild-faces-68": "photo", "youtube-faces": "person"},
            "heldout_share": HELDOUT_SHARE,
            "seed": SPLIT_SEED,
        },
        "iou_threshold": IOU_THRESHOLD,
        "box_rule": {
            "scale": BOX_SCALE,
            "y_shift": BOX_Y_SHIFT,
            "centre": f"inner points {INNER_POINTS.start}-{INNER_POINTS.stop - 1}",
        },
        "sets": {name: set_metrics(rs) for name, rs in results.items()},
        "tiled": tiled_metrics(detector, sets["wild-faces-68"]),
        "tiled_note": f"the part's wild photos tiled {TILE} px apiece into large pictures (a phone's group photo)",
        "turned": turned_metrics(detector, sets),
        "turned_note": "each picture turned about its centre (a tilted head); faces leaving it are not counted",
        "backlit": backlit_metrics(detector, sets),
        "backlit_note": "each face darkened to that share under a soft-edged ellipse (a face against a window)",
        "faceless": {"false_alarms": (alarms := faceless_false_alarms(detector)), "total": sum(alarms.values())},
        "ms_per_640x480_frame": frame_ms(detector),
        "frame": "skimage.data.astronaut() gray, 480x480, edge-padded to 640x480; median of 30 detect() calls",
        "notes": list(NOTES),
    }
    if any(s["score_constant"] for s in metrics["sets"].values()):
        metrics["notes"].append("The detector's score is constant: average precision reduces to precision x recall.")
    write_json(out / "metrics.json", metrics)
    write_atomic(out / "per_image.csv", lambda tmp: per_image_table(everything).to_csv(tmp, index=False))
    metrics["grid_panels"] = save_error_grid(everything, out / "errors.png")
    return metrics


def format_table(metrics: dict[str, Any]) -> str:
    """The short table the command prints."""
    lines = [f"{'set':<15}{'images':>7}{'faces':>7}{'recall':>8}{'prec':>7}{'AP':>7}{'recall_c':>10}{'prec_c':>8}"]
    for name, m in metrics["sets"].items():
        lines.append(
            f"{name:<15}{m['images']:>7}{m['faces']:>7}{m['recall_iou']:>8.3f}{m['precision_iou']:>7.3f}"
            f"{m['average_precision_iou']:>7.3f}{m['recall_centre']:>10.3f}{m['precision_centre']:>8.3f}"
        )
    for name, m in metrics["sets"].items():
        by_source = m["recall_iou_by_source"]
        if len(by_source) > 1:
            parts = [f"{source} {row['recall']:.3f} of {row['faces']}" for source, row in by_source.items()]
            lines.append(f"{name} recall by source: " + ", ".join(parts))
    lines.append("recall/prec/AP: IoU >= 0.5 with the landmark box; _c: a detection box contains the landmark centre")
    for size, m in metrics.get("tiled", {}).items():
        lines.append(
            f"wild photos tiled into {size} pictures ({m['pictures']}): recall {m['recall_iou']:.3f} of {m['faces']}, "
            f"{m['false_alarms_per_picture']:.2f} false alarms and {m['ms_per_picture']:.0f} ms per picture"
        )
    for name, turns in metrics.get("turned", {}).items():
        parts = [f"{degrees} {m['recall_centre']:.3f}" for degrees, m in turns.items()]
        lines.append(f"{name} turned in the plane (degrees, recall by landmark centre): " + ", ".join(parts))
    for name, shadows in metrics.get("backlit", {}).items():
        parts = [f"{factor} {m['recall_iou']:.3f}" for factor, m in shadows.items()]
        lines.append(f"{name} backlit (faces darkened, recall IoU >= 0.5): " + ", ".join(parts))
    faceless = metrics["faceless"]
    lines.append(f"faceless pictures: {faceless['total']} false alarms on {len(faceless['false_alarms'])}")
    lines.append(f"detection: {metrics['ms_per_640x480_frame']:.1f} ms per 640x480 frame (median)")
    lines.extend(f"note: {note}" for note in metrics["notes"])
    return "\n".join(lines)

"""``facexpr detect export``: ship a detector run as ``detection/weights/detector.{keras,tflite}`` with its config and
a model card: the threshold chosen on the run's validation photos, and the held-out test measurements."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
from tqdm import tqdm

from detection.cnn_config import DetectorConfig
from detection.cnn_detector import CARD_FILE, MODEL_FILE, WEIGHTS_DIR, CNNFaceDetector, as_detections, merged_readings
from detection.datasets import AnnotatedImage, load_wild_faces, load_youtube_frames
from detection.detectors import Detection, box_contains, box_iou
from detection.evaluate import evaluate_detector, evaluate_images, match
from detection.train import training_parts
from detection.training_pictures import unannotated_faces
from facexpr.datadir import WILD_FACES_68, YOUTUBE_FACES_KEYPOINTS, dataset_file
from facexpr.modelcard import remeasure_card as remeasure_card_file
from facexpr.modelcard import write_model_card
from facexpr.modelfile import export_litert, export_weights
from facexpr.training import RunFiles, run_stages, staged_run_state

#: The threshold keeps false alarms on the validation images at or below this share of the images.
FALSE_ALARM_SHARE = 0.01
#: Detections are read down to this centre probability when the threshold is chosen.
LOWEST_THRESHOLD = 0.05
#: The small-face reading's threshold is chosen on a grid of this step.
SMALL_STEP = 0.01


def validation_images(config: DetectorConfig, data_dir: str | os.PathLike[str] | None) -> list[AnnotatedImage]:
    """The photos and frames the run chose its checkpoint on (never the test part)."""
    wild = training_parts(load_wild_faces(data_dir), config.val_share, config.seed).validate
    youtube = training_parts(load_youtube_frames(data_dir), config.val_share, config.seed).validate
    return wild + youtube


def choose_threshold(detector: CNNFaceDetector, images: list[AnnotatedImage]) -> dict[str, Any]:
    """The lowest centre probability at which false alarms stay within ``FALSE_ALARM_SHARE`` of ``images``, and the
    recall there. A box on a face MTCNN finds but nobody annotated is neither a hit nor a false alarm."""
    results = evaluate_images(detector, images, "choosing the threshold")
    judged = [
        judge(result.detections, result.matches["iou"], extra)
        for result, extra in zip(results, unannotated_faces(images), strict=True)
    ]
    scores = np.array([d.score for result in results for d in result.detections])
    hit = np.concatenate([h for h, _ in judged]) if judged else np.zeros(0, bool)
    false = np.concatenate([f for _, f in judged]) if judged else np.zeros(0, bool)
    allowed = int(FALSE_ALARM_SHARE * len(images))
    candidates = np.sort(np.unique(scores))
    threshold = next(t for t in candidates if false[scores >= t].sum() <= allowed) if len(candidates) else 0.5
    faces = sum(len(image.landmarks) for image in images)
    return {
        "threshold": float(max(threshold, LOWEST_THRESHOLD)),
        "validation_images": len(images),
        "validation_recall": int((hit & (scores >= threshold)).sum()) / max(1, faces),
        "validation_false_alarms": int(false[scores >= threshold].sum()),
    }


def choose_thresholds(network_file: Path, images: list[AnnotatedImage]) -> dict[str, Any]:
    """The first reading's threshold by ``choose_threshold`` (read alone), then the lowest small-face threshold (a
    grid of ``SMALL_STEP``) at which it and the first reading keep false alarms within ``FALSE_ALARM_SHARE``, then
    likewise the turned readings' threshold with both."""
    alone = CNNFaceDetector(network_file, threshold=LOWEST_THRESHOLD, small_zoom=None, turn_degrees=None)
    chosen = choose_threshold(alone, images)
    detector = CNNFaceDetector(
        network_file, threshold=chosen["threshold"], small_threshold=LOWEST_THRESHOLD, turn_threshold=LOWEST_THRESHOLD
    )
    readings = [detector.readings(image.read()) for image in tqdm(images, desc="small-face and turned readings")]
    unannotated = unannotated_faces(images)
    faces = sum(len(image.landmarks) for image in images)

    def lowest(part: str, fixed: dict[str, float]) -> tuple[float, int, int]:
        """The lowest grid threshold of ``part``'s reading at which false alarms stay within the share (the other
        readings at their ``fixed`` thresholds), with the faces found and the false alarms there."""
        allowed = int(FALSE_ALARM_SHARE * len(images))
        for candidate in np.arange(LOWEST_THRESHOLD, 1.0, SMALL_STEP):
            cut = {**fixed, part: candidate}
            hits = false = 0
            for image, read, extra in zip(images, readings, unannotated, strict=True):
                kept = [read.first] + [  # the turns are not needed to count
                    (boxes[scores >= cut[name]], scores[scores >= cut[name]])
                    for name, (boxes, scores) in (("small", read.small), ("turned", read.turned))
                ]
                found = as_detections(*merged_readings(*kept, merge_iou=detector.merge_iou))
                hit, false_alarm = judge(found, match(found, image.boxes, image.centres, "iou"), extra)
                hits, false = hits + int(hit.sum()), false + int(false_alarm.sum())
            if false <= allowed:
                break
        return round(float(candidate), 2), hits, false

    small, small_hits, small_false = lowest("small", {"turned": np.inf})  # the turned readings left out
    turn, turn_hits, turn_false = lowest("turned", {"small": small})
    return {
        **chosen,
        "small_threshold": small,
        "validation_recall_both_readings": small_hits / max(1, faces),
        "validation_false_alarms_both_readings": small_false,
        "turn_threshold": turn,
        "validation_recall_all_readings": turn_hits / max(1, faces),
        "validation_false_alarms_all_readings": turn_false,
    }


def judge(found: list[Detection], matches: list[int], extra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per detection of one image (``matches``: the annotated face each took, or -1): whether it found an annotated
    face, and whether it is a false alarm (on no face, annotated or among the MTCNN-found ``extra`` ones)."""
    hit = np.array([face >= 0 for face in matches], dtype=bool)
    false = np.array([face < 0 and not _unannotated(d.box, extra) for d, face in zip(found, matches, strict=True)])
    return hit, false.astype(bool)


def _unannotated(box: tuple[int, int, int, int], extra: np.ndarray) -> bool:
    """Whether ``box`` lies on one of the faces MTCNN found but nobody annotated (``extra``)."""
    centre = np.array([box[0] + box[2] / 2.0, box[1] + box[3] / 2.0])
    return any(box_iou(box, tuple(b)) > 0.3 or box_contains(b, centre) for b in extra)


def export_detector(
    run_dir: str | os.PathLike[str],
    command: str,
    data_dir: str | os.PathLike[str] | None = None,
    weights_dir: Path = WEIGHTS_DIR,
) -> dict[str, Any]:
    """Ship the run's best detector with its card (in ``weights_dir``, default the package's); returns the card."""
    files = RunFiles(Path(run_dir))
    config = DetectorConfig.load(files.config)
    model_file, card_file = weights_dir / MODEL_FILE.name, weights_dir / CARD_FILE.name
    export_weights(keras.models.load_model(files.best, compile=False), model_file)
    config.save(model_file.with_suffix(".config.json"))
    network = keras.models.load_model(model_file, compile=False)
    # float32: this small network reads a frame slower from int8 weights (1.10 against 0.83 ms at 256x320).
    litert_file = export_litert(network, model_file.with_suffix(".tflite"), weights="float32")
    measured = card_measurements(litert_file, config, data_dir, files.root / "evaluation")
    card = write_model_card(
        card_file,
        name=f"facexpr face detector (CNN, centre heatmap at stride {config.stride})",
        model_file=model_file,
        parameters=network.count_params(),
        data_files=[dataset_file(WILD_FACES_68, data_dir), dataset_file(YOUTUBE_FACES_KEYPOINTS, data_dir)],
        config=config.to_json(),
        metrics=measured.pop("metrics"),
        run_state=staged_run_state(run_stages(files, config.init_from)),
        command=command,
        litert_file=litert_file,
        notes=(
            "Trained on the training photos of wild-faces-68 and training people of YouTube-Faces; checkpoint chosen "
            "on validation loss, threshold on the validation images (`threshold_choice`); measured on the held-out "
            "test photos and people by `facexpr detect evaluate` (IoU >= 0.5 with the landmark box rule)."
        ),
        extra=measured,
    )
    return card


def card_measurements(
    litert_file: Path, config: DetectorConfig, data_dir: str | os.PathLike[str] | None, out_dir: Path
) -> dict[str, Any]:
    """A card's thresholds, chosen on the run's validation images (``choose_thresholds``), and its held-out test
    measurements at them (``facexpr detect evaluate``'s files go to ``out_dir``)."""
    chosen = choose_thresholds(litert_file, validation_images(config, data_dir))
    detector = CNNFaceDetector(
        litert_file,
        threshold=chosen["threshold"],
        small_threshold=chosen["small_threshold"],
        turn_threshold=chosen["turn_threshold"],
    )
    metrics = evaluate_detector(detector, data_dir, "test", out_dir)
    return {
        "metrics": {
            key: metrics[key]
            for key in ("part", "split", "sets", "tiled", "turned", "backlit", "faceless", "ms_per_640x480_frame")
        },
        "threshold": chosen["threshold"],
        "small_threshold": chosen["small_threshold"],
        "turn_threshold": chosen["turn_threshold"],
        "threshold_choice": chosen,
    }


def remeasure_card(
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: Path = Path("outputs/remeasure/detector"),
    weights_dir: Path = WEIGHTS_DIR,
) -> dict[str, Any]:
    """Choose the thresholds of the detector in ``weights_dir`` (default the shipped one) and measure its card again
    with its network unchanged, as the detector now reads pictures (after a change to ``CNNFaceDetector``'s
    readings). Returns the rewritten card."""

    def measure(card: dict[str, Any]) -> dict[str, Any]:
        config = DetectorConfig.load((weights_dir / card["model_file"]).with_suffix(".config.json"))
        return card_measurements(weights_dir / card["litert_file"], config, data_dir, out_dir)

    return remeasure_card_file(
        weights_dir / CARD_FILE.name, "the detector", measure, "facexpr detect remeasure --data DATA"
    )

"""Turns a finished training run into the shipped weights and their model card."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from facexpr.datadir import WILD_FACES_68, YOUTUBE_FACES_KEYPOINTS, dataset_file
from facexpr.modelcard import card_beside, kept_litert_weights, write_model_card
from facexpr.modelcard import remeasure_card as remeasure_card_file
from facexpr.modelfile import export_litert, export_weights
from facexpr.networks import read_network
from facexpr.training import RunFiles, run_stages, staged_run_state
from keypoints.config import KeypointConfig
from keypoints.constants import GROUPED_BY
from keypoints.evaluate import crop_sources, evaluate_model, heldout_title, split_crops
from keypoints.inference import MODEL_FILE, KeypointModel

#: The card's held-out measurements: each face set's test part (whether or not the run trained on that set).
CARD_METRICS = {"youtube": "heldout_people", "wild": "heldout_wild_photos"}


def export_run(
    run_dir: str | os.PathLike[str],
    command: str,
    data_dir: str | os.PathLike[str] | None = None,
    model_file: Path = MODEL_FILE,
    card_file: Path | None = None,
) -> dict[str, Any]:
    """Save the run's best model as ``model_file`` and its LiteRT export beside it, and write ``card_file`` (default
    ``<model_file>.card.json``, where a later stage started from the weights finds it) with its held-out metrics,
    measured on the LiteRT file as users run it."""
    files = RunFiles(Path(run_dir))
    config = KeypointConfig.load(files.config)
    export_weights(keras.models.load_model(files.best, compile=False), model_file)
    config.save(model_file.parent / "config.json")
    network = keras.models.load_model(model_file, compile=False)
    card_path = card_file or card_beside(model_file)
    litert_file = export_litert(network, model_file.with_suffix(".tflite"), kept_litert_weights(card_path))
    metrics = card_metrics(litert_file, config, data_dir)
    return write_model_card(
        card_path,
        name="facexpr keypoints (15 Kaggle keypoints, 96x96 gray)",
        model_file=model_file,
        parameters=network.count_params(),
        data_files=[dataset_file(YOUTUBE_FACES_KEYPOINTS, data_dir), dataset_file(WILD_FACES_68, data_dir)],
        config=config.to_json(),
        metrics=metrics,
        run_state=staged_run_state(run_stages(files, config.init_from)),
        command=command,
        litert_file=litert_file,
        notes=(
            "YouTube-Faces and wild-faces-68 68-point landmarks mapped to the 15 Kaggle keypoints; crops by "
            "facexpr.crop.KEYPOINT_CROP around the default detector's box; config.faces says which sets it trained "
            "on. Test = a seeded 15% of the people (YouTube-Faces) and of the photos (wild-faces-68) (split_seed), "
            "never trained on or used for checkpoint selection. RMSE in pixels of the 96x96 crop; metrics as "
            "keypoints.predict gives them (each face averaged with its mirror image, mapped back with "
            "config.label_offset_px, as much of it as the face's two reads show where config.label_offset_faces "
            "names some sets only, then read again re-aligned by those points, keypoints.realign, the two reads "
            "averaged), with the first mirror-averaged read alone (_first_read) and with each face read once "
            "(tta=False, _single_read)."
        ),
    )


def card_metrics(
    litert_file: Path, config: KeypointConfig, data_dir: str | os.PathLike[str] | None
) -> dict[str, dict[str, Any]]:
    """A card's held-out measurements of the LiteRT network, read as users run it (``CARD_METRICS``)."""
    reader = KeypointModel.trained_with(read_network(litert_file, "keypoints model", ""), config)
    metrics = {}
    for faces, key in CARD_METRICS.items():
        crops = split_crops(config, data_dir, faces=faces)
        title = heldout_title("test", faces)
        heldout = evaluate_model(
            reader, crops, title=title, grouped_by=GROUPED_BY[faces], sources=crop_sources(crops, faces)
        )
        for reading in ("first_read", "single_read"):
            metrics[f"{key}_{reading}"] = heldout.pop(reading)
        metrics[key] = heldout
    return metrics


def remeasure_card(data_dir: str | os.PathLike[str] | None = None, model_file: Path = MODEL_FILE) -> dict[str, Any]:
    """Re-measure the card beside ``model_file`` (default the shipped weights) on the LiteRT file it names, the
    network unchanged: after that file was re-exported (``facexpr export-litert``), or the reading or the detector's
    crops changed. Returns the rewritten card."""

    def measure(card: dict[str, Any]) -> dict[str, Any]:
        config = KeypointConfig.load(model_file.parent / "config.json")
        return {"metrics": card_metrics(model_file.parent / card["litert_file"], config, data_dir)}

    return remeasure_card_file(
        card_beside(model_file), model_file.name, measure, "facexpr keypoints remeasure --data DATA"
    )

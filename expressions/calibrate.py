"""``facexpr expressions calibrate``: fit a shipped preset's reading on PublicTest (the temperature, and for a preset
without Neutral the threshold above which a face gets no label) and store it beside the weights."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from expressions.abstention import choose_threshold, read_correctly, tradeoff
from expressions.calibration import expected_calibration_error, fit_temperature
from expressions.datasets import load_fer2013
from expressions.inference import (
    Abstainer,
    abstainer_file,
    abstaining_model,
    load_model,
    reading_file,
    shipped_network_file,
)
from expressions.presets import FER2013_CLASSES, get_preset
from expressions.reading import Reading, with_temperature
from facexpr.checksum import sha256_file
from facexpr.datadir import FER2013, dataset_file
from facexpr.errors import DataNotFoundError

#: The split a reading is fitted on: the selection split, never the reported PrivateTest.
FIT_SPLIT = "PublicTest"
#: The seven-class network's class whose probability decides that a face shows none of a preset's classes.
ABSTAIN_CLASS = "Neutral"
#: Share of the correctly read selection faces that keep their label at the chosen threshold.
MIN_KEPT = 0.92


def calibrate(
    preset: str,
    data_dir: str | os.PathLike[str] | None = None,
    min_kept: float = MIN_KEPT,
    out: str | os.PathLike[str] | None = None,
    abstainer: str | None = None,
) -> dict[str, Any]:
    """Fit the reading and write it to ``out`` (default: ``<preset>.reading.json`` beside the shipped weights, where
    ``load_model`` reads it); returns what it wrote. ``abstainer`` names the seven-class LiteRT file beside the
    shipped weights that decides "none of these" (default: the one serving the seven-class preset)."""
    preset_ = get_preset(preset)
    network = load_model(preset_.name, path=shipped_network_file(preset_))
    part = load_fer2013(data_dir=data_dir, aligned=network.aligned).split(FIT_SPLIT)  # as the pipeline reads faces
    raw = network.probabilities(part.images)
    targets, keep = preset_.map_labels(part.labels)
    temperature = fit_temperature(raw[keep], targets)
    calibrated = with_temperature(raw, temperature)
    measured: dict[str, Any] = {
        "ece_network": expected_calibration_error(raw[keep], targets),
        "ece_calibrated": expected_calibration_error(calibrated[keep], targets),
    }
    reading = Reading(temperature)
    if ABSTAIN_CLASS not in preset_.classes:
        network_name = Path(abstainer).name if abstainer else None
        if not (where := abstainer_file(network_name)).is_file():
            raise DataNotFoundError(f"no abstaining network {where}: it must lie beside the shipped weights")
        seven = abstaining_model(network_name)
        # an aligned network's abstainer reads both framings: the aligned face and the face as FER2013 frames it
        judge = Abstainer(seven, seven.classes.index(ABSTAIN_CLASS), 1.0, both_framings=network.aligned)
        framed = load_fer2013(data_dir=data_dir).split(FIT_SPLIT).images if network.aligned else None
        scores = judge.scores(part.images, framed)
        correct = read_correctly(raw[keep], part.labels, preset_)
        threshold = choose_threshold(scores[correct], min_kept)
        reading = Reading(temperature, ABSTAIN_CLASS, threshold, judge.both_framings, network_name)
        chosen = tradeoff(scores, correct, part.labels, preset_, np.array([reading.abstain_threshold])).iloc[0]
        measured["kept_correct"] = float(chosen["kept_correct"])
        for name in FER2013_CLASSES:
            if name not in preset_.classes:
                measured[f"{name}_labelled"] = float(1 - chosen[f"{name}_unlabelled"])
    data = dataset_file(FER2013, data_dir)
    evidence = {
        "fitted_on": FIT_SPLIT,
        "faces": int(len(part.labels)),
        "min_kept": min_kept,
        "data": {"file": data.name, "sha256": sha256_file(data)},
        "network": shipped_network_file(preset_).name,
        "command": f"facexpr expressions calibrate --preset {preset_.name} --data DATA"
        + (f" --abstainer {reading.abstain_network}" if reading.abstain_network else ""),
        "measured_on_fit_split": measured,
    }
    path = reading.save(out or reading_file(preset_), **evidence)
    print(f"{preset_.name}: temperature {temperature:.3f}; " + ", ".join(f"{k} {v:.4f}" for k, v in measured.items()))
    if reading.abstain_class:
        print(f"  no label above {reading.abstain_class} probability {reading.abstain_threshold:.4f} (seven-class)")
    print(f"wrote {path}")
    return {**reading.__dict__, **evidence}

"""Model cards: what a shipped model is, how it was made, on what data, and how well it measured."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from pipeline.atomic import write_atomic, write_json
from pipeline.checksum import sha256_file


def card_beside(model_file: str | os.PathLike[str]) -> Path:
    """Where a shipped model's card lies: ``<weights>.card.json`` beside its weights file, where a later training
    stage started from those weights looks for the stages before it."""
    return Path(model_file).with_suffix(".card.json")


def export_weights(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` for inference only (no optimizer state, so the file stays small), atomically.

    A file that already holds this very model is left as it is, so re-writing a card does not churn the weights.
    """
    if Path(path).is_file() and same_model(keras.models.load_model(path, compile=False), model):
        return Path(path)
    clone = type(model).from_config(model.get_config())  # uncompiled (clone_model would keep the optimizer)
    clone.set_weights(model.get_weights())
    return write_atomic(path, clone.save)


def same_model(a: keras.Model, b: keras.Model) -> bool:
    """Whether two models have the same architecture and exactly the same weights."""
    weights_a, weights_b = a.get_weights(), b.get_weights()
    return (
        a.get_config() == b.get_config()
        and len(weights_a) == len(weights_b)
        and all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(weights_a, weights_b, strict=True))
    )


def write_model_card(
    path: str | os.PathLike[str],
    *,
    name: str,
    model_file: Path,
    parameters: int,
    data_files: list[Path],
    config: dict[str, Any],
    metrics: dict[str, Any],
    run_state: dict[str, Any],
    command: str,
    notes: str = "",
) -> dict[str, Any]:
    """Write the card JSON: metrics from the evaluation code, data checksums, config, command, time and machine."""
    card = {
        "name": name,
        "model_file": model_file.name,
        "model_sha256": sha256_file(model_file),
        "parameters": int(parameters),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "data": [{"file": f.name, "sha256": sha256_file(f)} for f in data_files],
        "training_command": command,
        "training": {
            "epochs_run": run_state.get("epoch"),
            "best_epoch": run_state.get("best_epoch"),
            "selected_on": run_state.get("monitor"),
            "train_seconds": round(float(run_state.get("train_seconds", 0.0)), 1),
            "stages": run_state.get("stages"),
            "machine": run_state.get("machine"),
        },
        "config": config,
        "metrics": metrics,
        "notes": notes,
    }
    write_json(path, card)
    return card

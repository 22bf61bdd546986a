"""Model cards: what a shipped model is, how it was made, on what data, and how well it measured."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from facexpr.atomic import write_json
from facexpr.checksum import sha256_file
from facexpr.errors import DataNotFoundError
from facexpr.litert import LITERT_WEIGHTS, weight_format


def card_beside(model_file: str | os.PathLike[str]) -> Path:
    """Where a shipped model's card lies: ``<weights>.card.json`` beside its weights file, where a later training
    stage started from those weights looks for the stages before it."""
    return Path(model_file).with_suffix(".card.json")


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
    litert_file: Path,
    notes: str = "",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the card JSON: metrics from the evaluation code, data checksums, config, command, time and machine, and
    the Keras weights with the LiteRT file exported from them (the one the runtime reads), each with its checksum;
    ``extra`` adds a model's own fields (a detector's threshold)."""
    card = {
        "name": name,
        "model_file": model_file.name,
        "model_sha256": sha256_file(model_file),
        "litert_file": litert_file.name,
        "litert_sha256": sha256_file(litert_file),
        "litert_weights": weight_format(litert_file),
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
        **(extra or {}),
    }
    write_json(path, card)
    return card


def kept_litert_weights(card: str | os.PathLike[str]) -> str:
    """The LiteRT weight format a model keeps when exported again: the one its card names (``litert_weights``, chosen
    by measurement), else int8."""
    path = Path(card)
    recorded = json.loads(path.read_text()).get("litert_weights") if path.is_file() else None
    return recorded or LITERT_WEIGHTS[0]


def remeasure_card(
    card_path: Path, what: str, measure: Callable[[dict[str, Any]], dict[str, Any]], command: str
) -> dict[str, Any]:
    """Measure a shipped model's card again with its network unchanged (after a new LiteRT export, or a change in how
    it reads): ``measure(card)`` gives the fields to replace, written back with a ``remeasured`` note of when and how
    (a ``remeasured`` entry among the fields adds its details to it). ``what`` names the model when it has no card.
    Returns the rewritten card."""
    if not card_path.is_file():
        raise DataNotFoundError(f"{what} has no card of its own to re-measure ({card_path})")
    card = json.loads(card_path.read_text())
    fields = measure(card)
    details = fields.pop("remeasured", {})
    card.update(fields)
    card["remeasured"] = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), **details}
    card["remeasured"]["command"] = command
    write_json(card_path, card)
    return card


def record_litert(card: str | os.PathLike[str], litert_file: Path) -> dict[str, Any]:
    """Name the LiteRT file exported from the card's weights, with its checksum, in the card (rewritten atomically)."""
    data = json.loads(Path(card).read_text())
    data["litert_file"] = litert_file.name
    data["litert_sha256"] = sha256_file(litert_file)
    data["litert_weights"] = weight_format(litert_file)
    write_json(card, data)
    return data

"""Turns a finished expression training run into shipped weights and a model card with its PrivateTest report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras

from expressions.config import ExpressionConfig
from expressions.evaluate import evaluate
from expressions.eyes import cached_identity
from expressions.inference import ExpressionModel, card_file, weights_file
from expressions.presets import get_preset
from facexpr.datadir import FER2013, FERPLUS, dataset_file
from facexpr.modelcard import kept_litert_weights, write_model_card
from facexpr.modelcard import remeasure_card as remeasure_card_file
from facexpr.modelfile import export_litert, export_weights
from facexpr.networks import read_network
from facexpr.training import RunFiles, run_stages, staged_run_state, starting_card


def export_run(
    run_dir: str | os.PathLike[str],
    command: str,
    data_dir: str | os.PathLike[str] | None = None,
    weights_dir: Path | None = None,
    preset: str | None = None,
) -> dict[str, Any]:
    """Ship the run's best model as ``<run preset>.keras`` (with its ``.config.json`` and its LiteRT export,
    ``.tflite``) and ``<preset>.card.json``.

    ``preset`` (default: the run's own) lets a seven-class run serve another preset: the card, reported on that
    preset's classes, names the seven-class weights file, which ships once however many presets it serves.
    """
    files = RunFiles(Path(run_dir))
    config = ExpressionConfig.load(files.config)
    served = get_preset(preset or config.preset).name
    model_file = weights_file(config.preset, weights_dir)
    export_weights(keras.models.load_model(files.best, compile=False), model_file)
    config.save(model_file.with_suffix(".config.json"))
    network = keras.models.load_model(model_file, compile=False)
    card_path = card_file(served, weights_dir)
    litert_file = export_litert(network, model_file.with_suffix(".tflite"), kept_litert_weights(card_path))
    metrics = card_metrics(litert_file, served, config, files.root / "evaluation" / served, data_dir)
    stages = run_stages(files, config.init_from)
    data_files = [dataset_file(FER2013, data_dir)] + ([dataset_file(FERPLUS, data_dir)] if used_ferplus(stages) else [])
    return write_model_card(
        card_path,
        name=f"facexpr expressions ({served}: {', '.join(get_preset(served).classes)})",
        model_file=model_file,
        parameters=network.count_params(),
        data_files=data_files,
        config=config.to_json(),
        metrics=metrics,
        run_state=staged_run_state(stages),
        command=command,
        litert_file=litert_file,
        notes=(
            "Trained on FER2013 Training, checkpoint chosen on PublicTest accuracy (`selected_on` names the reading), "
            "reported on PrivateTest (scikit-learn classification report from `facexpr report`), each face averaged "
            "with its mirror image as `expressions.predict` does by default."
        ),
    )


def card_metrics(
    litert_file: Path,
    preset: str,
    config: ExpressionConfig,
    out: Path,
    data_dir: str | os.PathLike[str] | None,
) -> dict[str, Any]:
    """A card's PublicTest and PrivateTest reports of the LiteRT network, read as users run it (aligned faces for an
    aligned network: eyes placed by today's keypoint model)."""
    model = ExpressionModel(read_network(litert_file, "expression model", ""), preset, aligned=config.aligned)
    return {
        usage: {
            k: v
            for k, v in evaluate(model, out / usage, usage, data_dir=data_dir, labels=config.labels).items()
            if k != "title"
        }
        for usage in ("PublicTest", "PrivateTest")
    }


def remeasure_card(
    preset: str,
    data_dir: str | os.PathLike[str] | None = None,
    out: Path = Path("outputs/remeasure"),
    weights_dir: Path | None = None,
) -> dict[str, Any]:
    """Re-measure a shipped preset's card (in ``weights_dir``, default the package's) with the network it names,
    unchanged: an aligned network reads faces aligned by the keypoint model, so a new keypoint model changes what it
    reads. Returns the rewritten card."""
    name = get_preset(preset).name
    card_path = card_file(name, weights_dir)

    def measure(card: dict[str, Any]) -> dict[str, Any]:
        config = ExpressionConfig.load((card_path.parent / card["model_file"]).with_suffix(".config.json"))
        metrics = card_metrics(card_path.parent / card["litert_file"], name, config, out / name, data_dir)
        eyes = cached_identity(dataset_file(FER2013, data_dir)) if config.aligned else None
        return {"metrics": metrics, "remeasured": {"eyes_read_by": eyes}}

    return remeasure_card_file(card_path, name, measure, f"facexpr expressions remeasure --preset {name} --data DATA")


def used_ferplus(stages: list[RunFiles]) -> bool:
    """Whether FER+ votes shaped any of a model's training ``stages`` (``run_stages``), as labels or blended targets,
    or shaped the shipped weights the first stage started from, as their card says."""
    configs = [ExpressionConfig.load(stage.config) for stage in stages if stage.config.is_file()]
    votes_file = Path(FERPLUS.files[0]).name
    return any(config.labels != "fer2013" or config.ferplus_mix > 0 for config in configs) or any(
        entry.get("file") == votes_file for entry in starting_card(stages[0]).get("data", [])
    )

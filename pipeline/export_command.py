"""``facexpr export-litert``: the LiteRT files the runtime reads, exported from Keras weights (``facexpr[train]``)."""

from __future__ import annotations

import argparse

from facexpr.cliflags import add_command
from facexpr.errors import InvalidInputError
from facexpr.litert import LITERT_WEIGHTS
from facexpr.networks import TRAIN_EXTRA_HINT


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``export-litert`` command."""
    command = add_command(
        subparsers,
        "export-litert",
        _export,
        "Write <model>.tflite beside each Keras model (default: the shipped ones) and record it, with its checksum, "
        "in the model cards that name those weights. Needs TensorFlow: pip install 'facexpr[train]'.",
        "facexpr export-litert runs/fer5/best.keras",
    )
    command.add_argument("models", nargs="*", metavar="MODEL.keras", help="default: the shipped weights")
    command.add_argument(
        "--weights",
        choices=LITERT_WEIGHTS,
        help="int8: dynamic-range quantized, 3-5x faster; float32: as trained (default: the format each model's card "
        "names, else int8)",
    )
    command.add_argument(
        "--out",
        metavar="FILE.tflite",
        help="write one model's LiteRT file here instead, recorded in no card (e.g. an int8 copy of fer7 for the "
        "abstainer: `facexpr expressions calibrate --abstainer`)",
    )


def _export(args: argparse.Namespace) -> int:
    from expressions.inference import serving_weights, shipped_presets
    from keypoints.inference import MODEL_FILE

    try:
        from facexpr.modelfile import write_litert_beside, write_litert_copy
    except ImportError as error:
        raise InvalidInputError(f"export-litert reads Keras models: {TRAIN_EXTRA_HINT}") from error

    if args.out:
        if len(args.models) != 1:
            raise InvalidInputError("--out writes one model's LiteRT file: name exactly one MODEL.keras")
        print(f"wrote {write_litert_copy(args.models[0], args.out, args.weights or 'int8')}")
        return 0
    shipped = [MODEL_FILE, *sorted({serving_weights(preset) for preset in shipped_presets()})]
    for model in args.models or shipped:
        litert_file, cards = write_litert_beside(model, args.weights)
        print(f"wrote {litert_file}" + (f"; recorded in {', '.join(card.name for card in cards)}" if cards else ""))
    return 0

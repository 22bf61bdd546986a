"""``facexpr expressions train|evaluate|compare|export`` and ``facexpr report``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from expressions.config import ExpressionConfig

#: The float training fields of expression models beyond the shared ones, each with its flag's help.
FLOAT_FLAGS = {
    "ferplus_mix": "blend this share of each face's FER+ vote distribution into its one-hot training target",
    "erase_prob": "share of faces with one rectangle erased",
    "mixup_alpha": "mixup: blend faces and targets across a batch with lambda ~ Beta(alpha, alpha); 0 turns it off",
    "class_weight_power": "sample weight ~ (1 / class frequency) ** power: 0 none, 1 fully balanced",
    "weight_decay": "L2 penalty on the kernels (AdamW also decays every weight by it, decoupled)",
    "label_smoothing": "share of each training target spread evenly over the classes (0 turns it off)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``expressions`` command group and the ``report`` command."""
    from expressions.cliflags import add_preset_flag
    from expressions.config import OPTIMIZERS
    from expressions.presets import LABEL_SOURCES, PRESETS
    from expressions.views import MULTISCALE
    from facexpr.cliflags import HelpFormatter, add_command, add_data_flag, add_shape_flags, add_training_flags

    group = subparsers.add_parser(
        "expressions", help="train, evaluate or ship expression models", formatter_class=HelpFormatter
    )
    commands = group.add_subparsers(dest="expressions_command", required=True, metavar="ACTION")
    defaults = ExpressionConfig()

    train = add_command(
        commands,
        "train",
        _train,
        "Train an expression classifier on FER2013 Training, choosing the checkpoint on PublicTest.",
        "facexpr expressions train --data ../shared/data --preset fer5 --run-dir runs/fer5",
    )
    add_data_flag(train)
    add_preset_flag(train, defaults.preset)
    train.add_argument("--labels", choices=LABEL_SOURCES, default=defaults.labels, help="label source")
    train.add_argument(
        "--ferplus-extra",
        action="store_true",
        help="also fit the Training faces the preset drops by their FER2013 label (e.g. Fear for fer5) whose FER+ "
        "majority names one of its classes, labelled by that majority",
    )
    train.add_argument(
        "--aligned",
        action="store_true",
        help="fit and select on faces aligned by their eye centres (run `facexpr align-fer2013` once first); the "
        "pipeline then aligns its crops by the keypoints it places",
    )
    train.add_argument(
        "--input-size",
        type=int,
        default=defaults.input_size,
        help="side of the square gray input; FER2013's 48x48 faces are upsampled to it",
    )
    add_shape_flags(train, defaults)
    train.add_argument("--run-dir", default=None, help="checkpoints, log.csv, curves.png (default runs/<preset>)")
    add_training_flags(train, defaults)
    train.add_argument(
        "--optimizer", choices=OPTIMIZERS, default=defaults.optimizer, help="AdamW, or SGD with Nesterov momentum 0.9"
    )
    for field, text in FLOAT_FLAGS.items():
        train.add_argument(f"--{field.replace('_', '-')}", type=float, default=getattr(defaults, field), help=text)

    evaluate = add_command(
        commands,
        "evaluate",
        _report,
        "Classification report of an expression model (PrivateTest by default); the same as `facexpr report`.",
        "facexpr expressions evaluate --data ../shared/data --preset fer7",
    )
    _report_arguments(evaluate)

    report = add_command(
        subparsers,
        "report",
        _report,
        "Print scikit-learn's classification report for an expression model on a FER2013 split or a labelled image "
        "folder, and write it as JSON, CSV and a confusion-matrix PNG.",
        "facexpr report --data ../shared/data --preset fer5 --split PrivateTest --out outputs/report-fer5",
    )
    _report_arguments(report)

    compare = add_command(
        commands,
        "compare",
        _compare,
        "Read the same faces with two models of a preset: accuracy and macro F1 of each, the faces only one gets "
        "right, and an exact McNemar p-value (is the difference more than chance?). PublicTest by default: choose "
        "there, then read PrivateTest once for the model chosen.",
        "facexpr expressions compare expressions/weights/fer5.keras runs/fer5/best.keras --data ../shared/data",
    )
    compare.add_argument("model_a", metavar="A", help="a .keras model")
    compare.add_argument("model_b", metavar="B", help="another .keras model of the same preset")
    _faces_arguments(compare, "PublicTest")
    compare.add_argument(
        "--multiscale-b",
        dest="scales_b",
        action="store_const",
        const=MULTISCALE,
        help="read B's faces at the seven zooms of --multiscale, A's as the other flags say: name one model twice "
        "to see what that reading gains",
    )
    compare.add_argument("--out", default=None, help="write compare.json and compare.csv here")

    calibrate = add_command(
        commands,
        "calibrate",
        _calibrate,
        "Fit a shipped preset's reading on PublicTest: the temperature that calibrates its confidence and, for a "
        "preset without Neutral, the seven-class Neutral probability above which a face gets no label (the lowest "
        "that keeps --min-kept of the correctly read faces labelled). Writes <preset>.reading.json beside the weights.",
        "facexpr expressions calibrate --data ../shared/data --preset fer5",
    )
    add_data_flag(calibrate)
    add_preset_flag(calibrate)
    calibrate.add_argument(
        "--min-kept", type=float, default=0.92, help="share of correctly read PublicTest faces that keep their label"
    )
    calibrate.add_argument("--out", metavar="FILE", help="where to write it (default: beside the shipped weights)")
    calibrate.add_argument(
        "--abstainer",
        metavar="FILE",
        help="the seven-class LiteRT network that decides 'none of these', a file beside the shipped weights (default: "
        "the one serving fer7; `facexpr export-litert expressions/weights/fer7.keras --weights int8 --out FILE` "
        "writes a faster copy)",
    )

    remeasure = add_command(
        commands,
        "remeasure",
        _remeasure,
        "Re-measure a shipped preset's card (PublicTest and PrivateTest reports) with its network unchanged: an "
        "aligned network reads faces aligned by the keypoint model, so a new keypoint model changes its figures. "
        "Run `calibrate` for the preset too.",
        "facexpr expressions remeasure --data ../shared/data --preset fer5",
    )
    add_data_flag(remeasure)
    add_preset_flag(remeasure)
    remeasure.add_argument("--out", default="outputs/remeasure", help="the reports and figures go here")

    export = add_command(
        commands,
        "export",
        _export,
        "Ship a run's best model into the package with its model card (PublicTest and PrivateTest reports).",
        "facexpr expressions export --run-dir runs/fer5 --data ../shared/data "
        "--command 'facexpr expressions train ...'",
    )
    add_data_flag(export)
    export.add_argument("--run-dir", required=True)
    export.add_argument("--command", required=True, help="the exact command that trained the run (goes into the card)")
    export.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="ship the run's network for this preset (default: the run's own; a fer7 run serves any preset)",
    )


def _report_arguments(parser: argparse.ArgumentParser) -> None:
    _faces_arguments(parser, "PrivateTest")
    parser.add_argument("--model", metavar="PATH", help="a .keras model (default: the shipped weights of --preset)")
    parser.add_argument(
        "--out", default=None, help="report.json, report.csv, confusion.png (default outputs/report-<preset>)"
    )


def _faces_arguments(parser: argparse.ArgumentParser, split: str) -> None:
    """Which faces a model reads: --data, --preset, --split (default ``split``), --labels, --folder; and how it reads
    them: --no-tta, --multiscale."""
    from expressions.cliflags import add_multiscale_flag, add_preset_flag
    from expressions.presets import LABEL_SOURCES, USAGES
    from facexpr.cliflags import add_data_flag, add_tta_flag

    add_data_flag(parser)
    add_preset_flag(parser)
    parser.add_argument("--split", choices=USAGES, default=split)
    parser.add_argument("--labels", choices=LABEL_SOURCES, default="fer2013", help="label source")
    parser.add_argument("--folder", metavar="DIR", help="evaluate on DIR/<class>/*.png|jpg instead of FER2013")
    add_tta_flag(parser)
    add_multiscale_flag(parser)


def _faces_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of ``expressions.evaluate.labelled_faces`` that ``_faces_arguments`` flags set."""
    return {
        "split": args.split,
        "folder": args.folder,
        "data_dir": args.data,
        "labels": args.labels,
        "on_error": args.on_error,
    }


def _train(args: argparse.Namespace) -> int:
    from expressions.train import train
    from facexpr.cliflags import shape_fields, training_fields

    config = ExpressionConfig(
        **training_fields(args, ExpressionConfig),
        preset=args.preset,
        labels=args.labels,
        ferplus_extra=args.ferplus_extra,
        aligned=args.aligned,
        optimizer=args.optimizer,
        input_size=args.input_size,
        **shape_fields(args),
        **{field: getattr(args, field) for field in FLOAT_FLAGS},
    )
    run_dir = args.run_dir or f"runs/{args.preset}"
    result = train(config, run_dir, args.data, quick=args.quick, resume=not args.no_resume, on_error=args.on_error)
    state = result.state
    best = f"epoch {state['best_epoch']}, mirror-averaged PublicTest accuracy {state['best']:.4f}"
    print(f"best: {result.run_dir / 'best.keras'} ({best})")
    return 0


def _report(args: argparse.Namespace) -> int:
    from expressions.evaluate import evaluate_model_file

    evaluate_model_file(
        args.preset,
        args.model,
        args.out or f"outputs/report-{args.preset}",
        tta=args.tta,
        scales=args.scales,
        **_faces_options(args),
    )
    return 0


def _compare(args: argparse.Namespace) -> int:
    from expressions.compare import compare_models

    compare_models(
        args.preset,
        args.model_a,
        args.model_b,
        args.out,
        tta=args.tta,
        scales=args.scales,
        scales_b=args.scales_b,
        **_faces_options(args),
    )
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from expressions.calibrate import calibrate

    calibrate(args.preset, args.data, args.min_kept, args.out, args.abstainer)
    return 0


def _remeasure(args: argparse.Namespace) -> int:
    from expressions.export import remeasure_card

    card = remeasure_card(args.preset, args.data, Path(args.out))
    print(f"{args.preset}: PrivateTest accuracy {card['metrics']['PrivateTest']['accuracy']:.4f} (card rewritten)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from expressions.export import export_run

    card = export_run(args.run_dir, args.command, args.data, preset=args.preset)
    print(f"shipped {card['model_file']} ({card['parameters']:,} parameters)")
    return 0

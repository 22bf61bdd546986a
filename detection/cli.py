"""``facexpr detect``: train, export, evaluate and compare face detectors on annotated photos and video frames."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detect`` command group."""
    from detection.cnn_config import DetectorConfig
    from facexpr.cliflags import HelpFormatter, add_command, add_data_flag, add_training_flags

    group = subparsers.add_parser(
        "detect", help="train, export and measure face detectors", formatter_class=HelpFormatter
    )
    commands = group.add_subparsers(dest="detect_command", required=True, metavar="ACTION")
    evaluate = add_command(
        commands,
        "evaluate",
        _evaluate,
        "Measure a face detector on held-out wild-faces-68 photos and YouTube-Faces people: recall, precision "
        "(IoU >= 0.5 and landmark centre), average precision, ms per 640x480 frame, a grid of its mistakes.",
        "facexpr detect evaluate --data ../shared/data --out outputs/detect-eval",
    )
    evaluate.add_argument("--detector", default=None, help="the detector's name (default: the pipeline's)")
    evaluate.add_argument("--model", metavar="PATH", help="the cnn detector's network (default: the shipped one)")
    add_data_flag(evaluate, bad_rows=False)
    evaluate.add_argument(
        "--part",
        default="test",
        help="test: the held-out photos and people (15%%, seeded); val: the validation ones; all: every image",
    )
    evaluate.add_argument(
        "--out", default="outputs/detect-eval", help="metrics.json, per_image.csv and errors.png go here"
    )

    compare = add_command(
        commands,
        "compare",
        _compare,
        "Two detectors on the same images (default: the validation photos and people, never the test part): "
        "recall and false alarms per image of each, with 95% intervals of their difference over whole photos and "
        "people. A new detector becomes the default only where it is better by these intervals.",
        "facexpr detect compare haar cnn --model-b runs/detector/best.keras --data ../shared/data",
    )
    compare.add_argument("a", help="the first detector's name (the one to beat)")
    compare.add_argument("b", help="the second detector's name")
    compare.add_argument("--model-a", metavar="PATH", help="the first cnn detector's network")
    compare.add_argument("--model-b", metavar="PATH", help="the second cnn detector's network")
    compare.add_argument("--threshold-b", type=float, help="the second cnn detector's threshold (default: its card's)")
    add_data_flag(compare, bad_rows=False)
    compare.add_argument("--part", default="val", help="val (default), test or all")
    compare.add_argument("--out", metavar="FILE", help="also write the comparison here as JSON")

    defaults = DetectorConfig()
    train = add_command(
        commands,
        "train",
        _train,
        "Train the CNN face detector on the training photos of wild-faces-68 and the training people of "
        "YouTube-Faces (the held-out test part is never read); checkpoints every epoch, resumes where it stopped. "
        "Needs facexpr[train] and the mtcnn package (it marks the faces the photos leave unannotated).",
        "facexpr detect train --data ../shared/data --run-dir runs/detector",
    )
    add_data_flag(train, bad_rows=False)
    train.add_argument("--run-dir", default="runs/detector", help="checkpoints, log.csv, curves.png")
    add_training_flags(train, defaults)
    train.add_argument("--pictures-per-epoch", type=int, default=defaults.pictures_per_epoch)
    train.add_argument("--widths", type=int, nargs=6, default=defaults.widths, help="stem and the five stages")
    train.add_argument("--head-width", type=int, default=defaults.head_width)
    train.add_argument("--stride", type=int, default=defaults.stride, help="cell side: 8, or 4 (small faces)")
    train.add_argument(
        "--context-faces-below",
        type=float,
        default=defaults.context_faces_below,
        help="faces drawn under this many px come from group-photo faces, which keep their surroundings",
    )
    train.add_argument(
        "--mosaic-prob", type=float, default=defaults.mosaic_prob, help="share of pictures made of four (small faces)"
    )
    train.add_argument(
        "--jpeg-prob", type=float, default=defaults.jpeg_prob, help="share of pictures saved as JPEG (quality 15-60)"
    )
    train.add_argument(
        "--shade-prob", type=float, default=defaults.shade_prob, help="share of pictures with faces in shadow (backlit)"
    )

    export = add_command(
        commands,
        "export",
        _export,
        "Ship a detector run's best network (.keras, .tflite, config) with a model card: the threshold chosen on "
        "its validation photos, and its held-out test measurements from `facexpr detect evaluate`.",
        'facexpr detect export --run-dir runs/detector --data ../shared/data --command "facexpr detect train ..."',
    )
    export.add_argument("--run-dir", required=True)
    add_data_flag(export, bad_rows=False)
    export.add_argument("--command", required=True, help="the exact command that trained the run (goes into the card)")

    remeasure = add_command(
        commands,
        "remeasure",
        _remeasure,
        "Choose the shipped detector's thresholds on its validation images and measure its card on the held-out test "
        "part again, the network unchanged: after a change to how the detector reads pictures.",
        "facexpr detect remeasure --data ../shared/data",
    )
    add_data_flag(remeasure, bad_rows=False)
    remeasure.add_argument("--out", default="outputs/remeasure/detector", help="the evaluation's files go here")


def _train(args: argparse.Namespace) -> int:
    from detection.cnn_config import DetectorConfig
    from detection.train import train_detector
    from facexpr.cliflags import training_fields

    config = DetectorConfig(
        **training_fields(args, DetectorConfig),
        pictures_per_epoch=args.pictures_per_epoch,
        widths=tuple(args.widths),
        head_width=args.head_width,
        stride=args.stride,
        mosaic_prob=args.mosaic_prob,
        context_faces_below=args.context_faces_below,
        jpeg_prob=args.jpeg_prob,
        shade_prob=args.shade_prob,
    )
    result = train_detector(config, args.run_dir, args.data, quick=args.quick, resume=not args.no_resume)
    state = result.state
    print(f"best: {result.run_dir / 'best.keras'} (epoch {state['best_epoch']}, val_loss {state['best']:.4f})")
    return 0


def _export(args: argparse.Namespace) -> int:
    from detection.export import export_detector

    card = export_detector(args.run_dir, args.command, args.data)
    print(f"shipped {card['model_file']} (threshold {card['threshold']:.3f})")
    return 0


def _remeasure(args: argparse.Namespace) -> int:
    from pathlib import Path

    from detection.export import remeasure_card

    card = remeasure_card(args.data, Path(args.out))
    thresholds = f"{card['threshold']:.3f} / {card['small_threshold']:.2f} / {card['turn_threshold']:.2f}"
    print(f"detector card re-measured (thresholds {thresholds})")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from detection.choice import DEFAULT_DETECTOR, get_detector
    from detection.evaluate import evaluate_detector, format_table
    from detection.split import PARTS
    from facexpr.errors import InvalidInputError

    if args.part not in PARTS:
        raise InvalidInputError(f"--part must be one of {list(PARTS)}, got {args.part!r}")
    params = {"model_path": args.model} if args.model else {}
    detector = get_detector(args.detector or DEFAULT_DETECTOR, **params)  # a bad name fails before data is read
    print(format_table(evaluate_detector(detector, args.data, args.part, args.out)))
    return 0


def _compare(args: argparse.Namespace) -> int:
    from detection.choice import get_detector
    from detection.compare import compare_detectors
    from detection.split import PARTS
    from facexpr.errors import InvalidInputError

    if args.part not in PARTS:
        raise InvalidInputError(f"--part must be one of {list(PARTS)}, got {args.part!r}")
    detector_a = get_detector(args.a, **_cnn_params(args.a, model_path=args.model_a))
    detector_b = get_detector(args.b, **_cnn_params(args.b, model_path=args.model_b, threshold=args.threshold_b))
    compare_detectors(detector_a, detector_b, args.data, args.part, args.out)
    return 0


def _cnn_params(name: str, **given: object) -> dict[str, object]:
    """The cnn detector's settings that were given; an error if they are given for another detector."""
    from detection.cnn_detector import CNNFaceDetector
    from facexpr.errors import InvalidInputError

    params = {key: value for key, value in given.items() if value is not None}
    if params and name != CNNFaceDetector.name:
        raise InvalidInputError(f"{' and '.join(params)} apply to the cnn detector, not to {name!r}")
    return params

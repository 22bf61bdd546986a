"""``facexpr detect evaluate``: measure a face detector on held-out annotated photos and video frames."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``detect`` command group."""
    from facexpr.cliflags import HelpFormatter, add_command

    group = subparsers.add_parser("detect", help="measure a face detector", formatter_class=HelpFormatter)
    commands = group.add_subparsers(dest="detect_command", required=True, metavar="ACTION")
    evaluate = add_command(
        commands,
        "evaluate",
        _evaluate,
        "Measure a face detector on held-out wild-faces-68 photos and YouTube-Faces people: recall, precision "
        "(IoU >= 0.5 and landmark centre), average precision, ms per 640x480 frame, a grid of its mistakes.",
        "facexpr detect evaluate --data ../shared/data --out outputs/detect-eval",
    )
    evaluate.add_argument("--detector", default="haar", help="the detector's name")
    evaluate.add_argument("--data", metavar="DIR", help="dataset directory (default: $FACEXPR_DATA, else ./data)")
    evaluate.add_argument(
        "--part", default="test", help="test: the held-out photos and people (15%%, seeded); all: every image"
    )
    evaluate.add_argument(
        "--out", default="outputs/detect-eval", help="metrics.json, per_image.csv and errors.png go here"
    )


def _evaluate(args: argparse.Namespace) -> int:
    from detection.detectors import get_detector
    from detection.evaluate import evaluate_detector, format_table
    from detection.split import PARTS
    from facexpr.errors import InvalidInputError

    if args.part not in PARTS:
        raise InvalidInputError(f"--part must be one of {list(PARTS)}, got {args.part!r}")
    get_detector(args.detector)  # an unknown name fails before any data is read
    print(format_table(evaluate_detector(args.detector, args.data, args.part, args.out)))
    return 0

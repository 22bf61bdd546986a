"""``facexpr keypoints train|evaluate``."""

from __future__ import annotations

import argparse

from keypoints.config import KeypointConfig
from keypoints.constants import FACE_SETS, SPLIT_PARTS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``keypoints`` command group."""
    from detection.choice import DEFAULT_DETECTOR, DETECTORS
    from facexpr.cliflags import (
        HelpFormatter,
        add_command,
        add_data_flag,
        add_shape_flags,
        add_training_flags,
        add_tta_flag,
    )

    group = subparsers.add_parser(
        "keypoints", help="train or evaluate the keypoints model", formatter_class=HelpFormatter
    )
    commands = group.add_subparsers(dest="keypoints_command", required=True, metavar="ACTION")

    defaults = KeypointConfig()
    train = add_command(
        commands,
        "train",
        _train,
        "Train the keypoints model on YouTube-Faces crops split by person, wild-faces-68 crops split by photo, or "
        "both (--faces youtube wild), or on a Kaggle CSV.",
        "facexpr keypoints train --data ../shared/data --run-dir runs/keypoints --epochs 60",
    )
    add_data_flag(train)
    train.add_argument(
        "--run-dir", default="runs/keypoints", help="checkpoints, log.csv, curves.png and config.json go here"
    )
    train.add_argument("--kaggle-csv", metavar="CSV", help="train on a Kaggle Facial Keypoints training.csv instead")
    train.add_argument(
        "--faces", nargs="+", choices=FACE_SETS, default=list(defaults.faces), help="the face sets trained on"
    )
    train.add_argument(
        "--detector", choices=sorted(DETECTORS), default=defaults.detector, help="the detector the faces are cropped by"
    )
    add_training_flags(train, defaults)
    add_shape_flags(train, defaults)
    train.add_argument("--loss", choices=("wing", "mse"), default=defaults.loss)
    train.add_argument("--scale", type=float, default=1.0 - defaults.scale_range[0], help="zoom range 1 +- scale")
    train.add_argument(
        "--flip-prob", type=float, default=defaults.flip_prob, help="share of training faces mirrored (0 turns it off)"
    )
    train.add_argument(
        "--label-offset",
        metavar="PX|CSV",
        default=str(defaults.label_offset_px),
        help="how the labels sit off the features they mark, so flips and mirror averaging keep it: an x offset in "
        "crop px, a model's config.json (its offset), or the per_keypoint.csv of `evaluate --split train` on a model "
        "trained with --flip-prob 0",
    )
    train.add_argument(
        "--label-offset-faces",
        nargs="+",
        choices=FACE_SETS,
        metavar="SET",
        help="the face sets whose labels carry --label-offset (default: every set trained on)",
    )
    train.add_argument(
        "--balance-faces",
        action="store_true",
        help="repeat each face set's training faces to as many as the largest set's every epoch",
    )
    train.add_argument(
        "--balance-collections",
        action="store_true",
        help="within the wild photos, repeat AFW's training faces to as many as HELEN's every epoch",
    )
    train.add_argument(
        "--realign-prob",
        type=float,
        default=defaults.realign_prob,
        help="share of training faces re-aligned to the mean shape as the second read sees them",
    )
    train.add_argument(
        "--realign-noise",
        type=float,
        default=defaults.realign_noise_px,
        help="px of jitter on each point before such a face is re-aligned (a first read's error)",
    )
    train.add_argument("--no-evaluate", action="store_true", help="skip the held-out evaluation at the end")

    evaluate = add_command(
        commands,
        "evaluate",
        _evaluate,
        "Evaluate a keypoints model on the held-out people: RMSE, NME, PCK, a face grid.",
        "facexpr keypoints evaluate --data ../shared/data --out outputs/keypoints",
    )
    add_data_flag(evaluate)
    evaluate.add_argument("--model", metavar="PATH", help="a .keras model (default: the shipped weights)")
    evaluate.add_argument(
        "--out", default="outputs/keypoints-eval", help="metrics.json, per_keypoint.csv and grid.png go here"
    )
    evaluate.add_argument(
        "--kaggle-csv", metavar="CSV", help="evaluate on a Kaggle Facial Keypoints CSV's held-out split"
    )
    add_tta_flag(evaluate)
    evaluate.add_argument(
        "--split",
        choices=SPLIT_PARTS,
        default="test",
        help="which people: the held-out test people, or the validation or training people of the same split",
    )
    evaluate.add_argument(
        "--faces",
        choices=FACE_SETS,
        default="youtube",
        help="youtube: YouTube-Faces frames split by person; wild: wild-faces-68 photos split by photo",
    )
    evaluate.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default=DEFAULT_DETECTOR,
        help="whose boxes the faces are cropped around",
    )

    compare = add_command(
        commands,
        "compare",
        _compare,
        "Two keypoint models on the same faces (default: the validation people or photos, where a retrained model "
        "is chosen) with the 95% interval of their RMSE difference over whole people or photos.",
        "facexpr keypoints compare runs/keypoints/best.keras --data ../shared/data --faces wild",
    )
    compare.add_argument("model", metavar="MODEL", help="the candidate .keras model (b)")
    compare.add_argument("--against", metavar="PATH", help="the reference model (a; default: the shipped weights)")
    add_data_flag(compare)
    compare.add_argument("--faces", choices=FACE_SETS, default="youtube", help="the face set")
    compare.add_argument("--split", choices=SPLIT_PARTS, default="val", help="which people or photos")
    compare.add_argument("--detector", choices=sorted(DETECTORS), default=DEFAULT_DETECTOR)
    compare.add_argument("--out", metavar="JSON", help="also write the comparison here")

    export = add_command(
        commands,
        "export",
        _export,
        "Ship a run's best model: copy it into the package and write its model card.",
        "facexpr keypoints export --run-dir runs/keypoints --data ../shared/data "
        "--command 'facexpr keypoints train ...'",
    )
    add_data_flag(export)
    export.add_argument("--run-dir", default="runs/keypoints")
    export.add_argument("--command", required=True, help="the exact command that trained the run (goes into the card)")

    remeasure = add_command(
        commands,
        "remeasure",
        _remeasure,
        "Re-measure the shipped model's card (held-out people and photos) on its LiteRT file, the network unchanged: "
        "after `facexpr export-litert` wrote that file again.",
        "facexpr keypoints remeasure --data ../shared/data",
    )
    add_data_flag(remeasure)


def _compare(args: argparse.Namespace) -> int:
    from keypoints.compare import compare_models

    compare_models(args.against, args.model, args.data, args.faces, args.split, args.detector, args.out)
    return 0


def _export(args: argparse.Namespace) -> int:
    from keypoints.export import export_run

    card = export_run(args.run_dir, args.command, args.data)
    print(f"shipped {card['model_file']} ({card['parameters']:,} parameters)")
    return 0


def _remeasure(args: argparse.Namespace) -> int:
    from keypoints.export import remeasure_card

    card = remeasure_card(args.data)
    people, photos = (card["metrics"][key]["overall"] for key in ("heldout_people", "heldout_wild_photos"))
    print(f"held-out people RMSE {people['rmse_px']:.3f} px, photos {photos['rmse_px']:.3f} px (card rewritten)")
    return 0


def _train(args: argparse.Namespace) -> int:
    from facexpr.cliflags import shape_fields, training_fields
    from keypoints.evaluate import parse_label_offset
    from keypoints.train import train

    config = KeypointConfig(
        **training_fields(args, KeypointConfig),
        **shape_fields(args),
        loss=args.loss,
        scale_range=(1.0 - args.scale, 1.0 + args.scale),
        flip_prob=args.flip_prob,
        label_offset_px=parse_label_offset(args.label_offset),
        label_offset_faces=tuple(args.label_offset_faces) if args.label_offset_faces else None,
        balance_faces=args.balance_faces,
        balance_collections=args.balance_collections,
        realign_prob=args.realign_prob,
        realign_noise_px=args.realign_noise,
        faces=tuple(args.faces),
        detector=args.detector,
    )
    result = train(
        config,
        args.run_dir,
        args.data,
        args.kaggle_csv,
        quick=args.quick,
        resume=not args.no_resume,
        on_error=args.on_error,
    )
    print(f"best checkpoint: {result.run_dir / 'best.keras'} (epoch {result.state['best_epoch']})")
    if not args.no_evaluate:
        from keypoints.evaluate import evaluate_run

        evaluate_run(result, out_dir=result.run_dir / "evaluation")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from keypoints.evaluate import evaluate_heldout

    evaluate_heldout(
        args.model,
        args.out,
        args.data,
        args.kaggle_csv,
        tta=args.tta,
        on_error=args.on_error,
        part=args.split,
        detector=args.detector,
        faces=args.faces,
    )
    return 0

"""Command-line pieces every part's subcommands share: help formatting, the data flag, training and TTA flags."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help that shows each flag's default, except where it says nothing (``None``, or a switch's value when off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.nargs == 0:
            return action.help
        return super()._get_help_string(action)


def add_command(
    subparsers: argparse._SubParsersAction, name: str, handler: Handler, summary: str, example: str
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` shows ``summary`` and an example."""
    parser = subparsers.add_parser(
        name, help=summary, description=f"{summary}\n\nexample:\n  {example}", formatter_class=HelpFormatter
    )
    parser.set_defaults(handler=handler)
    return parser


def add_data_flag(parser: argparse.ArgumentParser, bad_rows: bool = True) -> None:
    """The one data setting (--data, else $FACEXPR_DATA, else ./data) and, with ``bad_rows``, what to do with
    malformed rows (for commands whose loaders read row by row)."""
    parser.add_argument("--data", metavar="DIR", help="dataset directory (default: $FACEXPR_DATA, else ./data)")
    if not bad_rows:
        return
    parser.add_argument(
        "--skip-bad-rows",
        dest="on_error",
        action="store_const",
        const="skip",
        default="raise",
        help="skip malformed dataset rows (and say how many) instead of stopping at them",
    )


def add_training_flags(parser: argparse.ArgumentParser, defaults: Any) -> None:
    """Flags every training command shares; ``defaults`` is the stage's config (its epochs, batch size, ...)."""
    parser.add_argument("--epochs", type=int, help=f"default {defaults.epochs}, or 1 with --quick")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help="faces per training step")
    parser.add_argument(
        "--learning-rate", type=float, default=defaults.learning_rate, help="peak rate, after warmup, before decay"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seeds weights, shuffling and augmentation")
    parser.add_argument(
        "--warmup-epochs", type=int, default=defaults.warmup_epochs, help="epochs of linear learning-rate warmup"
    )
    parser.add_argument("--rotation-deg", type=float, default=defaults.rotation_deg, help="max augmentation rotation")
    parser.add_argument(
        "--init-from",
        metavar="MODEL",
        help="start from this .keras model's weights, layer by layer where names and shapes match "
        "(a fine-tuning stage, or another preset's backbone)",
    )
    parser.add_argument("--quick", action="store_true", help="a small real subset, one epoch unless --epochs (tests)")
    parser.add_argument(
        "--no-resume", action="store_true", help="start over even if the run directory has a checkpoint"
    )


def add_shape_flags(parser: argparse.ArgumentParser, defaults: Any) -> None:
    """``--stage-filters`` and ``--blocks-per-stage``: the residual network's width and depth per stage."""
    flags = {
        "--stage-filters": (defaults.stage_filters, "width of each residual stage (the network's capacity)"),
        "--blocks-per-stage": (
            defaults.blocks_per_stage,
            "residual blocks in each stage; with --init-from, blocks the init model lacks start as the identity",
        ),
    }
    for flag, (default, text) in flags.items():
        parser.add_argument(flag, type=int, nargs="+", default=default, help=text)


def add_tta_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-tta``: read each face once; evaluations average each face with its mirror image by default."""
    parser.add_argument(
        "--no-tta",
        dest="tta",
        action="store_false",
        help="read each face once instead of averaging it with its mirror image (which is the default)",
    )


def training_fields(args: argparse.Namespace, defaults: Any) -> dict[str, Any]:
    """The config fields ``add_training_flags`` sets: its flags' values, and --epochs, else 1 with --quick, else
    the default of ``defaults`` (the stage's config class)."""
    return {
        "epochs": args.epochs or (1 if args.quick else defaults.epochs),
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "warmup_epochs": args.warmup_epochs,
        "rotation_deg": args.rotation_deg,
        "init_from": args.init_from,
    }


def shape_fields(args: argparse.Namespace) -> dict[str, tuple[int, ...]]:
    """The config fields ``add_shape_flags`` sets."""
    return {"stage_filters": tuple(args.stage_filters), "blocks_per_stage": tuple(args.blocks_per_stage)}

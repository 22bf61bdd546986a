"""The ``facexpr`` command line (also ``python -m pipeline``): one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pipeline.errors import FacexprError

Handler = Callable[[argparse.Namespace], int]


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
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
        name, help=summary, description=f"{summary}\n\nexample:\n  {example}", formatter_class=_Formatter
    )
    parser.set_defaults(handler=handler)
    return parser


def add_data_flag(parser: argparse.ArgumentParser) -> None:
    """The one data setting (--data, else $FACEXPR_DATA, else ./data) and what to do with malformed rows."""
    parser.add_argument("--data", metavar="DIR", help="dataset directory (default: $FACEXPR_DATA, else ./data)")
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


def add_tta_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-tta``: read each face once; evaluations average each face with its mirror image by default."""
    parser.add_argument(
        "--no-tta",
        dest="tta",
        action="store_false",
        help="read each face once instead of averaging it with its mirror image (which is the default)",
    )


def add_multiscale_flag(parser: argparse.ArgumentParser) -> None:
    """``--multiscale``: the expression model reads each face at seven zooms (``expressions.views.MULTISCALE``)."""
    from expressions.views import MULTISCALE, SINGLE_SCALE

    parser.add_argument(
        "--multiscale",
        dest="scales",
        action="store_const",
        const=MULTISCALE,
        default=SINGLE_SCALE,
        help=f"read each face for its expression at zooms {', '.join(map(str, MULTISCALE))} and average them "
        "(7x the expression compute; see the README for what it gains)",
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


def add_preset_flag(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """The expression preset (class set) a command uses."""
    from expressions.presets import DEFAULT_PRESET, PRESETS

    parser.add_argument("--preset", choices=sorted(PRESETS), default=default or DEFAULT_PRESET)


def build_parser() -> argparse.ArgumentParser:
    """The full ``facexpr`` parser."""
    from expressions import cli as expressions_cli
    from keypoints import cli as keypoints_cli
    from pipeline import commands as pipeline_commands

    parser = argparse.ArgumentParser(
        prog="facexpr",
        description="Find faces, place 15 facial keypoints and name their expression.",
        formatter_class=_Formatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    pipeline_commands.register(subparsers)
    keypoints_cli.register(subparsers)
    expressions_cli.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except (FacexprError, FileNotFoundError) as error:
        print(f"facexpr: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facexpr: interrupted", file=sys.stderr)
        return 130

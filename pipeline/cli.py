"""The ``facexpr`` command line (also ``python -m pipeline``): one subcommand per job."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from facexpr.cliflags import HelpFormatter
from facexpr.errors import FacexprError
from facexpr.quiet import stderr_silenced


def build_parser() -> argparse.ArgumentParser:
    """The full ``facexpr`` parser."""
    from detection import cli as detection_cli
    from expressions import cli as expressions_cli
    from keypoints import cli as keypoints_cli
    from pipeline import commands as pipeline_commands
    from pipeline import export_command, fer_eyes
    from pipeline.serve import command as serve_command

    fer_eyes.register_reader()  # an aligned network's report reads FER2013's eyes on first use
    parser = argparse.ArgumentParser(
        prog="facexpr",
        description="Find faces, place 15 facial keypoints and name their expression.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show debug logging and TensorFlow's start-up lines"
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    pipeline_commands.register(subparsers)
    serve_command.register(subparsers)
    keypoints_cli.register(subparsers)
    expressions_cli.register(subparsers)
    export_command.register(subparsers)
    fer_eyes.register(subparsers)
    detection_cli.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status. Native libraries' start-up lines stay off stderr unless -v."""
    args = build_parser().parse_args(argv)
    if args.verbose:
        return _run(args)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    for chatty in ("matplotlib", "tensorflow", "absl"):  # font cache, "Assets written to", ...
        logging.getLogger(chatty).setLevel(logging.WARNING)
    with stderr_silenced():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s: %(message)s")
    try:
        return int(args.handler(args) or 0)
    except (FacexprError, FileNotFoundError) as error:
        print(f"facexpr: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facexpr: interrupted", file=sys.stderr)
        return 130

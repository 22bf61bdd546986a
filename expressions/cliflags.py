"""Command-line flags of the expression stage that the pipeline's commands share: the preset and ``--multiscale``."""

from __future__ import annotations

import argparse

from expressions.presets import DEFAULT_PRESET, PRESETS
from expressions.views import MULTISCALE, SINGLE_SCALE


def add_multiscale_flag(parser: argparse.ArgumentParser) -> None:
    """``--multiscale``: the expression model reads each face at seven zooms (``expressions.views.MULTISCALE``)."""
    parser.add_argument(
        "--multiscale",
        dest="scales",
        action="store_const",
        const=MULTISCALE,
        default=SINGLE_SCALE,
        help=f"read each face for its expression at zooms {', '.join(map(str, MULTISCALE))} and average them "
        "(7x the expression compute; see the README for what it gains)",
    )


def add_preset_flag(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    """The expression preset (class set) a command uses."""
    parser.add_argument("--preset", choices=sorted(PRESETS), default=default or DEFAULT_PRESET)


def add_abstain_flag(parser: argparse.ArgumentParser) -> None:
    """``--no-abstain``: name one of the preset's classes for every face (by default a face that shows none of them,
    such as a neutral one, gets no label)."""
    parser.add_argument(
        "--no-abstain",
        dest="abstain",
        action="store_false",
        help="give every face one of the preset's classes, even one that shows none of them (drawn 'neutral / other' "
        "by default)",
    )

"""Validation of dataset rows: parsing pixel strings and reporting malformed rows (raise or skip)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np

from facexpr.errors import DataFormatError, InvalidInputError

OnError = Literal["raise", "skip"]
logger = logging.getLogger("facexpr")
_SHOWN = 5


def parse_pixels(text: object, count: int) -> np.ndarray:
    """Parse a space-separated string of ``count`` integers in 0..255 into uint8; ValueError says why not."""
    if not isinstance(text, str):
        raise ValueError("pixels missing")
    fields = text.split()
    if len(fields) != count:
        raise ValueError(f"{len(fields)} pixel values, expected {count}")
    try:
        values = np.array(fields, dtype=np.int32)
    except ValueError:
        bad = next(f for f in fields if not f.lstrip("-").isdigit())
        raise ValueError(f"non-numeric pixel value {bad!r}") from None
    if values.min() < 0 or values.max() > 255:
        raise ValueError("pixel value outside 0..255")
    return values.astype(np.uint8)


def report_bad_rows(problems: Iterable[str], source: Path | str, on_error: OnError) -> list[str]:
    """Raise ``DataFormatError`` listing ``problems`` (``on_error='raise'``) or log how many were skipped."""
    problems = list(problems)
    if on_error not in ("raise", "skip"):
        raise InvalidInputError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    if not problems:
        return problems
    shown = "; ".join(problems[:_SHOWN]) + (
        f"; ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    )
    if on_error == "raise":
        raise DataFormatError(
            f"{source}: {len(problems)} malformed row(s): {shown}. "
            "Fix them or load with on_error='skip' (--skip-bad-rows)."
        )
    logger.warning("%s: skipped %d malformed row(s): %s", source, len(problems), shown)
    return problems

"""The project's own exception types, so callers can catch bad input without knowing the internals."""

from __future__ import annotations


class FacexprError(Exception):
    """Base class of every error facexpr raises on purpose."""


class InvalidImageError(FacexprError, ValueError):
    """An image argument that is not a usable picture (None, empty, wrong shape, dtype or channels)."""


class InvalidInputError(FacexprError, ValueError):
    """A batch or argument of the wrong shape, dtype or value (other than an image)."""


class DataFormatError(FacexprError, ValueError):
    """A dataset file with malformed content; the message names the file, row and what was wrong."""


class DataNotFoundError(FacexprError, FileNotFoundError):
    """A dataset or model file that is not where it should be; the message says where to get it."""

"""Reading a saved Keras model with clear errors: a missing file, or one that is not a Keras model."""

from __future__ import annotations

import os
from pathlib import Path

import keras

from pipeline.errors import DataNotFoundError, InvalidInputError


def read_model(path: str | os.PathLike[str], what: str, hint: str) -> keras.Model:
    """The uncompiled network saved at ``path``; ``what`` names it in errors and ``hint`` says where to get one."""
    file = Path(path)
    if not file.is_file():
        raise DataNotFoundError(f"{what} not found: {file}. {hint}")
    try:
        return keras.models.load_model(file, compile=False)
    except (ValueError, OSError) as error:  # what Keras raises for a non-model, a truncated zip or a bad .h5
        raise InvalidInputError(
            f"{file}: not a readable {what} (expected a Keras 3 .keras file, or a legacy .h5)"
        ) from error

"""FER2013's eye centres, read once by the keypoint model and cached per copy of the file, so training and evaluation
can align the faces (``facexpr.alignment``) without importing the keypoint stage: ``facexpr align-fer2013`` writes
the cache, and the pipeline registers the keypoint model's reader (``register_eye_reader``) so a missing cache, or
one another keypoint model read, is filled on first use."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from facexpr.atomic import write_atomic
from facexpr.checksum import sha256_file
from facexpr.datadir import cache_dir
from facexpr.errors import DataFormatError, DataNotFoundError

#: The command that writes the eyes file.
EYES_COMMAND = "facexpr align-fer2013"

EyeReader = Callable[[np.ndarray], np.ndarray]
_readers: list[tuple[EyeReader, Callable[[], str]]] = []


def register_eye_reader(reader: EyeReader, identity: Callable[[], str]) -> None:
    """Let eye centres be read by ``reader`` ((N, 48, 48) faces to (N, 2, 2) eyes) and cached; ``identity()`` names
    the model behind it (e.g. by its checksum; asked only when eyes are needed), so eyes another model read are read
    again."""
    _readers[:] = [(reader, identity)]


def fer_eyes(csv_path: str | os.PathLike[str], rows: np.ndarray, images: np.ndarray) -> np.ndarray:
    """(N, 2, 2) eye centres of the faces ``images`` of CSV ``rows``: from the cache when the registered reader (or,
    with none registered, any reader) wrote it, else read by the registered reader and cached, else a clear error
    naming the command that writes them."""
    if not _readers:
        return read_eyes(csv_path, rows)
    reader, identity = _readers[0][0], _readers[0][1]()
    if cached_identity(csv_path) == identity:
        return read_eyes(csv_path, rows)
    eyes = reader(images)
    write_eyes(csv_path, rows, eyes, identity)
    return eyes


def cached_identity(csv_path: str | os.PathLike[str]) -> str | None:
    """The identity of the reader that wrote the cached eyes of ``csv_path`` (None: no cache, or an unnamed one)."""
    file = eyes_file(csv_path)
    if not file.is_file():
        return None
    with np.load(file) as saved:
        return str(saved["reader"]) if "reader" in saved.files else None


def eyes_file(csv_path: str | os.PathLike[str]) -> Path:
    """Where the eye centres of the faces of ``csv_path`` are cached (named by the file's SHA-256)."""
    return cache_dir() / f"fer2013-eyes-{sha256_file(Path(csv_path))[:16]}.npz"


def read_eyes(csv_path: str | os.PathLike[str], rows: np.ndarray) -> np.ndarray:
    """(N, 2, 2) left and right eye centres (48x48 face pixels) of the given CSV ``rows``."""
    file = eyes_file(csv_path)
    if not file.is_file():
        raise DataNotFoundError(
            f"no eye centres for {csv_path} (expected {file}); aligned faces need them: run `{EYES_COMMAND}` first"
        )
    with np.load(file) as saved:
        eyes = saved["eyes"]
    if len(rows) and int(np.max(rows)) >= len(eyes):
        raise DataFormatError(f"{file} holds eyes for {len(eyes)} rows, not row {np.max(rows)}; run `{EYES_COMMAND}`")
    return eyes[rows]


def write_eyes(csv_path: str | os.PathLike[str], rows: np.ndarray, eyes: np.ndarray, identity: str) -> Path:
    """Cache the eye centres ``eyes`` (N, 2, 2) of CSV ``rows`` (rows not given stay NaN: left as they are), read by
    the reader named ``identity``."""
    table = np.full((int(np.max(rows)) + 1 if len(rows) else 0, 2, 2), np.nan, dtype=np.float32)
    table[rows] = eyes
    file = eyes_file(csv_path)
    write_atomic(file, lambda tmp: np.savez(tmp, eyes=table, reader=np.array(identity)))
    return file

"""Native libraries kept off stderr: TensorFlow's and LiteRT's C++ start-up lines (CUDA stub, oneDNN, XNNPACK) are
written to file descriptor 2 before any log setting applies, so the quiet block points it at /dev/null while Python's
own ``sys.stderr`` (progress bars, warnings, the CLI's errors) keeps reaching the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """Inside the block, native writes to file descriptor 2 are dropped; ``sys.stderr`` still reaches the terminal."""
    python_stderr = sys.stderr
    python_stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    if _writes_to_fd2(python_stderr):  # else it is already captured elsewhere (pytest, a notebook): leave it
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1, encoding=python_stderr.encoding, errors="replace")
    try:
        yield
    finally:
        # The copy stays open: a logging handler made inside the block may still write to it at exit.
        sys.stderr.flush()
        sys.stderr = python_stderr
        os.dup2(saved, 2)
        os.close(saved)


def _writes_to_fd2(stream: TextIO) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return False

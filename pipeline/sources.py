"""A collection's inputs: files, folders (recursively), text or CSV lists of paths, on local disk or on any filesystem
pyarrow or fsspec understands (``s3://``, ``gs://``, ``hdfs://``, ...), listed as images and videos and read as bytes.

Local paths are made absolute, so every machine of a cluster reads the same file (from a shared mount) and a rerun
from another folder names the same inputs.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pyarrow as pa
import pyarrow.fs as pafs

from facexpr.errors import InvalidInputError
from facexpr.images import IMAGE_SUFFIXES

#: File suffixes read as videos (one task per file); folders are searched for these and ``IMAGE_SUFFIXES``.
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})
#: Inputs read as lists of paths: one a line (``.txt``), or the ``path`` (else ``source``, else first) CSV column.
LIST_SUFFIXES = frozenset({".txt", ".csv"})
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class Sources:
    """Every input once, in the order given (folders sorted): pictures, and videos (one task each)."""

    images: list[str]
    videos: list[str]


def list_sources(inputs: Iterable[str | os.PathLike[str]]) -> Sources:
    """The images and videos named by ``inputs``: files, folders (recursively) and ``.txt``/``.csv`` lists of paths.

    A file named directly (or in a list) is read as an image unless its suffix is a video's, as ``facexpr annotate``
    does; a missing one is reported when it is read. Relative paths in a list are relative to the list's folder.
    """
    found: dict[str, None] = {}  # ordered, each input once
    for item in inputs:
        name = _absolute(os.fspath(item))
        if suffix(name) in LIST_SUFFIXES:
            entries = [_join(_parent(name), entry) for entry in _list_entries(name)]
        else:
            entries = [name]
        for entry in entries:
            found.update(dict.fromkeys(_expand(entry)))
    videos = [name for name in found if suffix(name) in VIDEO_SUFFIXES]
    return Sources([name for name in found if suffix(name) not in VIDEO_SUFFIXES], videos)


def is_uri(name: str) -> bool:
    """Whether ``name`` is a URI with a scheme (``s3://...``) rather than a local path."""
    return bool(_SCHEME.match(name))


def suffix(name: str) -> str:
    """The lower-case suffix of a path or URI (``.jpg``)."""
    return Path(urlsplit(name).path if is_uri(name) else name).suffix.lower()


def open_uri(uri: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem holding ``uri`` and the path on it: pyarrow's own, else fsspec's behind pyarrow's interface."""
    parts = urlsplit(uri)
    root = f"{parts.scheme}://{parts.netloc}" + (f"?{parts.query}" if parts.query else "")
    filesystem, root_path = _filesystem(root)
    return filesystem, (root_path.rstrip("/") + parts.path) if parts.path else root_path


def read_bytes(name: str) -> bytes:
    """The whole content of a local file or URI."""
    if not is_uri(name):
        return Path(name).read_bytes()
    filesystem, path = open_uri(name)
    with filesystem.open_input_stream(path) as stream:
        return stream.read()


@contextmanager
def local_file(name: str) -> Iterator[Path]:
    """A local path to the file: itself on local disk, else a temporary copy (same suffix), removed after the block."""
    if not is_uri(name):
        yield Path(name)
        return
    filesystem, path = open_uri(name)
    with tempfile.TemporaryDirectory(prefix="facexpr-") as folder:
        copy = Path(folder) / f"input{suffix(name)}"
        with filesystem.open_input_stream(path) as stream, open(copy, "wb") as target:
            shutil.copyfileobj(stream, target)
        yield copy


def _expand(name: str) -> list[str]:
    """``name`` itself, or the image and video files under it (sorted) when it is a folder."""
    if is_uri(name):
        if _is_media(name):  # taken as a file unasked: a list may name a million of them
            return [name]
        filesystem, path = open_uri(name)
        if filesystem.get_file_info(path).type != pafs.FileType.Directory:
            return [name]
        infos = filesystem.get_file_info(pafs.FileSelector(path, recursive=True))
        base = path.rstrip("/")
        files = sorted(info.path for info in infos if info.type == pafs.FileType.File)
        return [_join(name, file[len(base) + 1 :]) for file in files if _is_media(file)]
    if not os.path.isdir(name):
        return [name]
    return sorted(str(file) for file in Path(name).rglob("*") if file.is_file() and _is_media(file.name))


def _is_media(name: str) -> bool:
    return suffix(name) in IMAGE_SUFFIXES | VIDEO_SUFFIXES


def _list_entries(name: str) -> list[str]:
    """The paths a ``.txt`` list (one a line; blank lines and ``#`` comments skipped) or ``.csv`` list names."""
    try:
        text = read_bytes(name).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{name}: a list of paths must be UTF-8 text") from None
    if suffix(name) == ".txt":
        return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [column.strip().lower() for column in rows[0]]
    column = next((header.index(key) for key in ("path", "source") if key in header), 0)
    return [row[column].strip() for row in rows[1:] if len(row) > column and row[column].strip()]


def _absolute(name: str) -> str:
    """A local path made absolute (``file://`` URIs become plain paths); other URIs as they are."""
    if name.startswith("file://"):
        return url2pathname(urlsplit(name).path)
    return name if is_uri(name) else os.path.abspath(os.path.expanduser(name))


def _parent(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[0] if is_uri(name) else os.path.dirname(name)


def _join(folder: str, entry: str) -> str:
    """``entry`` (absolute, a URI, or relative to ``folder``) as an absolute local path or a URI."""
    if is_uri(entry):
        return entry
    if is_uri(folder):
        return f"{folder.rstrip('/')}/{entry}"
    return _absolute(os.path.join(folder, os.path.expanduser(entry)))


@lru_cache(maxsize=32)
def _filesystem(root: str) -> tuple[pafs.FileSystem, str]:
    """One filesystem per scheme and host, made once (an S3 client is slow to start)."""
    try:
        return pafs.FileSystem.from_uri(root)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # not one of pyarrow's own
    try:
        import fsspec
    except ImportError:
        raise InvalidInputError(f"{root}: not a filesystem pyarrow reads; fsspec may (pip install fsspec)") from None
    try:
        filesystem, path = fsspec.core.url_to_fs(root)
    except (ImportError, ValueError) as error:
        raise InvalidInputError(f"{root}: no filesystem reads this ({error})") from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(filesystem)), path

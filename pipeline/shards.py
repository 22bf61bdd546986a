"""A collection's output folder: Parquet shards of face rows, each with a manifest entry naming the inputs it covers,
the errors table, and the plan of what a rerun still has to do.

Layout under OUT (a local folder or a URI): ``faces/<shard>.parquet`` (images: one row per face),
``video_faces/<shard>.parquet`` (videos: one row per face per frame), ``manifest/<shard>.json`` (written last, so a
shard counts as done only once its rows are there), ``errors.parquet`` (path, error_type, message),
``collection.json`` (the models, so a rerun cannot mix readings) and, with drawing, ``drawn/``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from facexpr.atomic import write_atomic
from facexpr.errors import InvalidInputError
from pipeline.faces import row_columns
from pipeline.sources import Sources, is_uri, open_uri

FACES = "faces"
VIDEO_FACES = "video_faces"
MANIFEST = "manifest"
DRAWN = "drawn"
ERRORS = "errors.parquet"
SETTINGS = "collection.json"

TaskKind = Literal["images", "video"]


@dataclass(frozen=True)
class Task:
    """One unit of work, written as one shard: a batch of images, or one video."""

    shard: str
    kind: TaskKind
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class FileError:
    """An input that could not be read: its path, the error's type name and what was wrong."""

    path: str
    error_type: str
    message: str


@dataclass(frozen=True)
class ShardRecord:
    """A written shard's manifest entry: its inputs, face rows, failed inputs, drawn files and the worker's seconds."""

    shard: str
    kind: TaskKind
    inputs: tuple[str, ...]
    faces: int
    errors: tuple[FileError, ...] = ()
    drawn: tuple[str, ...] = ()
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> ShardRecord:
        data = json.loads(text)
        return cls(
            data["shard"],
            data["kind"],
            tuple(data["inputs"]),
            int(data["faces"]),
            tuple(FileError(**error) for error in data["errors"]),
            tuple(data["drawn"]),
            float(data["seconds"]),
        )


def plan(sources: Sources, done: set[str], batch_size: int) -> list[Task]:
    """The tasks for inputs no written shard covers: images ``batch_size`` at a time, then each video on its own."""
    if batch_size < 1:
        raise InvalidInputError(f"batch size must be at least 1, got {batch_size}")
    images = [name for name in sources.images if name not in done]
    tasks = [_task("images", images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    return tasks + [_task("video", [name]) for name in sources.videos if name not in done]


def _task(kind: TaskKind, inputs: Sequence[str]) -> Task:
    digest = hashlib.sha1("\n".join(inputs).encode()).hexdigest()[:16]
    return Task(f"{kind}-{digest}", kind, tuple(inputs))


def face_schema(classes: Sequence[str], video: bool) -> pa.Schema:
    """The columns of a shard: ``faces.csv``'s (source, output, face, box, ...) for images; for videos source, frame,
    time, face and the same reading columns as ``facexpr video``'s CSV."""
    leading = [("source", pa.string())]
    leading += [("frame", pa.int64()), ("time", pa.float64())] if video else [("output", pa.string())]
    types = {"x": pa.int64(), "y": pa.int64(), "w": pa.int64(), "h": pa.int64(), "label": pa.string()}
    reading = [(name, types.get(name, pa.float64())) for name in row_columns(classes)]
    return pa.schema([*leading, ("face", pa.int64()), *reading])


ERROR_SCHEMA = pa.schema([("path", pa.string()), ("error_type", pa.string()), ("message", pa.string())])


class Output:
    """The output folder ``out`` (a local path or a URI): shards written whole, and what earlier runs wrote.

    A local file is written beside its target and renamed into place; elsewhere it is uploaded in one stream. Either
    way a shard counts only once its manifest entry, written last, is there.
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        name = os.fspath(out)
        self.local = not is_uri(name)
        self.uri = os.path.abspath(name) if self.local else name.rstrip("/")
        self.filesystem, self.root = (pafs.LocalFileSystem(), self.uri) if self.local else open_uri(self.uri)

    def path(self, name: str) -> str:
        """Where ``name`` (relative to OUT) is, as a local path or URI."""
        return f"{self.uri}/{name}"

    def write(self, name: str, data: bytes) -> None:
        """Write ``data`` to ``name`` whole."""
        if self.local:
            write_atomic(self.path(name), lambda tmp: tmp.write_bytes(data))
            return
        target = f"{self.root}/{name}"
        self.filesystem.create_dir(target.rsplit("/", 1)[0], recursive=True)
        with self.filesystem.open_output_stream(target) as stream:
            stream.write(data)

    def upload(self, local: Path, name: str) -> None:
        """Copy a local file (a drawn video) to ``name`` whole."""
        if self.local:
            write_atomic(self.path(name), lambda tmp: shutil.copyfile(local, tmp))
            return
        target = f"{self.root}/{name}"
        self.filesystem.create_dir(target.rsplit("/", 1)[0], recursive=True)
        with open(local, "rb") as source, self.filesystem.open_output_stream(target) as stream:
            shutil.copyfileobj(source, stream)

    def read(self, name: str) -> bytes:
        with self.filesystem.open_input_stream(f"{self.root}/{name}") as stream:
            return stream.read()

    def names(self, folder: str = "") -> list[str]:
        """The file names in ``folder`` (OUT itself by default; none if it is absent)."""
        selector = pafs.FileSelector(f"{self.root}/{folder}".rstrip("/"), allow_not_found=True)
        return sorted(info.base_name for info in self.filesystem.get_file_info(selector) if info.is_file)

    def check_settings(self, settings: dict[str, Any]) -> None:
        """Record ``settings`` (the models) on first use; a later run with other settings is refused."""
        if SETTINGS not in self.names():
            self.write(SETTINGS, (json.dumps(settings, indent=2) + "\n").encode())
            return
        recorded = json.loads(self.read(SETTINGS))
        if recorded != settings:
            raise InvalidInputError(
                f"{self.path(SETTINGS)}: this output was written with other models ({recorded}); "
                f"use another -o for {settings}"
            )

    def records(self) -> list[ShardRecord]:
        """The manifest entries of every shard written so far (read 32 at a time: thousands on an object store)."""
        with ThreadPoolExecutor(32) as pool:
            texts = pool.map(lambda name: self.read(f"{MANIFEST}/{name}"), self.names(MANIFEST))
            return [ShardRecord.from_json(text.decode()) for text in texts]

    def remove_unrecorded(self, records: Iterable[ShardRecord]) -> list[str]:
        """Delete face files no manifest entry names (left by a shard in flight when a run stopped); their names."""
        recorded = {f"{record.shard}.parquet" for record in records}
        removed = []
        for folder in (FACES, VIDEO_FACES):
            for name in self.names(folder):
                if name not in recorded:
                    self.filesystem.delete_file(f"{self.root}/{folder}/{name}")
                    removed.append(f"{folder}/{name}")
        return removed

    def write_shard(self, record: ShardRecord, table: pa.Table) -> None:
        """The shard's face rows, then its manifest entry: a stop in between leaves rows that the next run removes."""
        folder = VIDEO_FACES if record.kind == "video" else FACES
        self.write(f"{folder}/{record.shard}.parquet", parquet_bytes(table))
        self.write(f"{MANIFEST}/{record.shard}.json", (record.to_json() + "\n").encode())

    def write_errors(self, records: Iterable[ShardRecord]) -> None:
        """``errors.parquet``: every input of the collection that could not be read, with why."""
        rows = [asdict(error) for record in records for error in record.errors]
        self.write(ERRORS, parquet_bytes(pa.Table.from_pylist(rows, schema=ERROR_SCHEMA)))


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as the bytes of one Parquet file."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()

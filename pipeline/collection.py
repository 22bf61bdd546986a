"""``annotate_collection``: annotate a collection of pictures with the local engine (this process: drawn pictures,
faces.csv and faces.json, as ``facexpr annotate`` always has) or the Ray engine (a cluster: a resumable Parquet
dataset, videos included)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

from tqdm.auto import tqdm

from facexpr.errors import InvalidInputError
from pipeline.model_choice import ModelChoice

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")
#: Images per batch with the Ray engine: each batch is one task, one Parquet shard and one manifest entry.
DEFAULT_BATCH_SIZE = 64
logger = logging.getLogger("facexpr")


@dataclass(frozen=True)
class CollectionSummary:
    """What a collection holds after a run: pictures and videos read, face rows, and each input that failed with why.

    With the Ray engine the counts cover every shard in OUT, those earlier runs wrote included.
    """

    engine: Engine
    out: str
    images: int
    videos: int
    faces: int  # face rows: one per face in a picture, one per face per frame in a video
    errors: dict[str, str] = field(default_factory=dict)  # input -> what was wrong with it
    shards_written: int = 0  # Ray: shards this run wrote
    shards_skipped: int = 0  # Ray: shards already in OUT, not redone
    seconds: float = 0.0

    def headline(self) -> str:
        """One line saying what was done and where it went."""
        if self.engine == "local":
            return f"annotated {self.images} image(s), {self.faces} face(s) -> {self.out} (faces.csv, faces.json)"
        return (
            f"annotated {self.images} image(s) and {self.videos} video(s), {self.faces} face row(s) -> {self.out} "
            f"(faces/, video_faces/, errors.parquet); {self.shards_written} shard(s) written in {self.seconds:.1f} s, "
            f"{self.shards_skipped} already there"
        )


def annotate_collection(
    inputs: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    engine: Engine = "local",
    *,
    models: ModelChoice | None = None,
    address: str | None = None,
    workers: int | None = None,
    batch_size: int | None = None,
    draw: bool = False,
    progress: bool = True,
) -> CollectionSummary:
    """Annotate every picture ``inputs`` name (files, folders recursively) into ``out``; bad files are reported in
    the summary and skipped, the good results all written.

    ``engine="local"``: ``pipeline.batch.annotate_files`` in this process (drawn pictures, faces.csv, faces.json).
    ``engine="ray"`` (``pip install "facexpr[ray]"``): inputs may also be videos, ``.txt``/``.csv`` lists of paths and
    URIs (``s3://...``); ``workers`` actors on the Ray cluster at ``address`` each load the models once and write
    ``batch_size`` pictures (or one video) per Parquet shard under ``out``. A rerun with the same ``out`` skips the
    shards already written. ``models``: the shipped ones by default. ``draw`` also writes drawn copies under
    ``out/drawn/`` (the local engine always draws).
    """
    models = models or ModelChoice()
    if engine not in ENGINES:
        raise InvalidInputError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "local":
        options = (("address", address), ("workers", workers), ("batch_size", batch_size))
        given = [name for name, value in options if value is not None]
        if given:
            raise InvalidInputError(f"{', '.join(given)}: only for the ray engine")
        from pipeline.batch import annotate_files

        start = time.perf_counter()
        batch = annotate_files(inputs, out, annotator=models.annotator(), progress=progress)
        seconds = time.perf_counter() - start
        return CollectionSummary(
            engine, str(out), len(batch.written), 0, len(batch.faces), batch.errors, seconds=seconds
        )
    for name, value in (("workers", workers), ("batch_size", batch_size)):
        if value is not None and value < 1:
            raise InvalidInputError(f"{name} must be at least 1, got {value}")
    return _annotate_on_ray(inputs, out, models, address, workers, batch_size or DEFAULT_BATCH_SIZE, draw, progress)


def _annotate_on_ray(
    inputs: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    models: ModelChoice,
    address: str | None,
    workers: int | None,
    batch_size: int,
    draw: bool,
    progress: bool,
) -> CollectionSummary:
    ray_engine = _ray_engine()
    from pipeline.shards import ERRORS, Output, plan
    from pipeline.sources import list_sources

    start = time.perf_counter()
    models = models.portable()
    sources = list_sources(inputs)
    output = Output(out)
    output.check_settings({"models": models.to_dict()})
    records = output.records()
    skipped = len(records)
    removed = output.remove_unrecorded(records)
    if removed:
        logger.info("removed %d face file(s) of shards a stopped run left unfinished", len(removed))
    tasks = plan(sources, {name for record in records for name in record.inputs}, batch_size)
    if tasks:
        files = sum(len(task.inputs) for task in tasks)
        with tqdm(total=files, desc="annotating", unit="file", disable=not progress) as bar:
            for record in ray_engine.run_tasks(tasks, output.uri, models, draw=draw, address=address, workers=workers):
                records.append(record)
                bar.update(len(record.inputs))
    if tasks or ERRORS not in output.names():
        output.write_errors(records)
    errors = {error.path: error.message for record in records for error in record.errors}
    read = {kind: sum(len(r.inputs) - len(r.errors) for r in records if r.kind == kind) for kind in ("images", "video")}
    faces = sum(record.faces for record in records)
    seconds = time.perf_counter() - start
    return CollectionSummary(
        "ray", output.uri, read["images"], read["video"], faces, errors, len(tasks), skipped, seconds
    )


def _ray_engine() -> ModuleType:
    """``pipeline.ray_engine``, or a clear error when the ray extra is not installed."""
    try:
        from pipeline import ray_engine
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in {"ray", "pyarrow"}:
            raise
        raise InvalidInputError(
            f'the ray engine needs {error.name}, which is not installed: pip install "facexpr[ray]"'
        ) from None
    return ray_engine

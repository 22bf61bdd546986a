"""One worker's job on one task: read a batch of images (detection picture by picture, then both networks once over
all the batch's faces) or one video, and write the task's shard. No Ray here: it runs, and is tested, in any process.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import pandas as pd
import pyarrow as pa

from detection.detectors import Detection
from facexpr.errors import FacexprError
from facexpr.images import Picture, decode_image, load_picture
from pipeline.annotator import Annotator, FaceCrops
from pipeline.draw import draw
from pipeline.faces import Face
from pipeline.model_choice import ModelChoice
from pipeline.shards import DRAWN, FileError, Output, ShardRecord, Task, face_schema
from pipeline.sources import is_uri, local_file, read_bytes
from pipeline.video import annotate_video


@dataclass(frozen=True)
class Detected:
    """One picture's faces as the detector found them, with their crops: all a batch keeps of the picture until its
    networks run (plus the picture itself when it is to be drawn)."""

    detections: list[Detection]
    crops: FaceCrops | None  # None where no face was found


def read_detected(annotator: Annotator, batch: list[Detected]) -> list[list[Face]]:
    """Each picture's faces, as ``Annotator.read`` gives them, with each network called once on all the batch's
    faces."""
    found = [picture for picture in batch if picture.detections]
    if not found:
        return [[] for _ in batch]
    faces = iter(
        annotator.faces_of(
            [d for picture in found for d in picture.detections],
            FaceCrops.concat([picture.crops for picture in found if picture.crops is not None]),
        )
    )
    return [[next(faces) for _ in picture.detections] for picture in batch]


def decode_picture(data: bytes, name: str) -> Picture:
    """The picture in an image file's bytes; truncated or unrecognised files fail as ``facexpr.images.read_image``."""
    return load_picture(decode_image(data, name))


def picture_of(name: str, content: Future[bytes]) -> Picture:
    """The picture in the file ``name`` whose bytes ``content`` (``read_bytes`` on a thread) brings."""
    try:
        data = content.result()
    except FileNotFoundError:
        raise FileNotFoundError(f"{name}: image file not found") from None
    return decode_picture(data, name)


#: Files fetched at once: an object store answers each request after tens of milliseconds.
READ_AHEAD = 8


class ShardWriter:
    """Holds the models (loaded once) and writes each task it is given as one shard under ``out``."""

    def __init__(self, out: str, models: ModelChoice, draw: bool = False) -> None:
        self.output = Output(out)
        self.annotator = models.annotator()
        self.draw = draw
        self.schemas = {"images": face_schema(models.classes, video=False), "video": face_schema(models.classes, True)}

    def run(self, task: Task) -> ShardRecord:
        """Read the task's inputs and write its shard: face rows, then the manifest entry naming what it covers."""
        start = time.perf_counter()
        table, errors, drawn = self._images(task.inputs) if task.kind == "images" else self._video(task.inputs[0])
        seconds = round(time.perf_counter() - start, 3)
        record = ShardRecord(task.shard, task.kind, task.inputs, table.num_rows, tuple(errors), tuple(drawn), seconds)
        self.output.write_shard(record, table)
        return record

    def _images(self, names: tuple[str, ...]) -> tuple[pa.Table, list[FileError], list[str]]:
        read, pictures, errors = [], [], []
        with ThreadPoolExecutor(READ_AHEAD) as files:  # the batch's files fetched while earlier ones are read
            for name, content in zip(names, [files.submit(read_bytes, name) for name in names], strict=True):
                try:
                    picture = picture_of(name, content)
                except (FacexprError, OSError) as error:  # OSError includes a missing file
                    errors.append(file_error(name, error))
                    continue
                read.append((name, Detected(*self.annotator.find(picture.gray))))
                pictures.append(picture.bgr if self.draw else None)  # only a picture to draw is kept
        faces = read_detected(self.annotator, [detected for _, detected in read])
        rows: list[dict[str, object]] = []
        drawn = []
        for (name, _), bgr, found in zip(read, pictures, faces, strict=True):
            output = None
            if bgr is not None:
                output = drawn_name(name, ".png")
                self.output.write(output, cv2.imencode(".png", draw(bgr, found))[1].tobytes())
                drawn.append(output)
            rows += [{"source": name, "output": output, "face": i, **face.to_row()} for i, face in enumerate(found)]
        return pa.Table.from_pylist(rows, schema=self.schemas["images"]), errors, drawn

    def _video(self, name: str) -> tuple[pa.Table, list[FileError], list[str]]:
        with tempfile.TemporaryDirectory(prefix="facexpr-") as folder:
            table, video = Path(folder) / "faces.csv", Path(folder) / "drawn.mp4"
            copy = None
            try:
                with local_file(name) as copy:
                    annotate_video(
                        copy, video if self.draw else None, csv_path=table, annotator=self.annotator, progress=False
                    )
            except (FacexprError, OSError) as error:  # unreadable, or a URI that could not be fetched
                return self.schemas["video"].empty_table(), [file_error(name, error, copy)], []
            frame = pd.read_csv(table)
            frame.insert(0, "source", name)
            rows = pa.Table.from_pandas(frame, schema=self.schemas["video"], preserve_index=False)
            if not self.draw:
                return rows, [], []
            output = drawn_name(name, ".mp4")
            self.output.upload(video, output)
            return rows, [], [output]


def file_error(name: str, error: BaseException, copy: Path | None = None) -> FileError:
    """The errors-table entry of an input that failed: the message without the file name (or local copy's) it starts
    with."""
    message = str(error).removeprefix(f"{name}: ")
    if copy is not None:
        message = message.removeprefix(f"{copy}: ")
    return FileError(name, type(error).__name__, message)


def drawn_name(name: str, suffix: str) -> str:
    """Where an input's drawn copy goes under OUT: its stem plus a short digest of its full name (stems repeat)."""
    stem = Path(urlsplit(name).path if is_uri(name) else name).stem
    return f"{DRAWN}/{stem}-{hashlib.sha1(name.encode()).hexdigest()[:8]}_annotated{suffix}"

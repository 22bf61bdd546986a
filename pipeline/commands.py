"""``facexpr annotate|video|webcam|demo|bench``: the pipeline's commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.annotator import Annotator
    from pipeline.model_choice import ModelChoice


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the pipeline's commands."""
    from facexpr.cliflags import add_command

    annotate = add_command(
        subparsers,
        "annotate",
        _annotate,
        "Annotate photos and folders (recursively): drawn pictures plus faces.csv and faces.json of every face. "
        "A bad file is reported and skipped; the exit status is 1 if any file failed. With --engine ray, on a Ray "
        "cluster: a resumable Parquet dataset of the faces (rerun to finish a stopped run), videos and lists too.",
        "facexpr annotate photos/ group.jpg -o outputs/annotated\n"
        "  facexpr annotate archive/ clips/ paths.txt --engine ray --address auto -o s3://bucket/faces",
    )
    annotate.add_argument(
        "inputs",
        nargs="+",
        metavar="IMG_OR_DIR",
        help="images and folders; with --engine ray also videos, .txt/.csv lists of paths and URIs (s3://, gs://, ...)",
    )
    annotate.add_argument("-o", "--out", required=True, metavar="OUTDIR")
    add_model_flags(annotate)
    add_engine_flags(annotate)

    video = add_command(
        subparsers,
        "video",
        _video,
        "Annotate a video file: an annotated video and a CSV with one row per face per frame.",
        "facexpr video clip.mp4 -o outputs/clip_annotated.mp4 --smoothing 0.5",
    )
    video.add_argument("input", metavar="IN")
    video.add_argument("-o", "--out", required=True, metavar="OUT.mp4")
    video.add_argument("--csv", metavar="OUT.csv", help="per-frame faces (default: OUT with .csv)")
    add_model_flags(video)
    video.add_argument("--smoothing", type=float, default=0.0, help="0 (off) to <1: smooth faces that persist")
    add_detect_every_flag(video)
    video.add_argument("--max-frames", type=int, help="stop after this many frames")

    webcam = add_command(
        subparsers,
        "webcam",
        _webcam,
        "Live annotation from a camera in a window (q or Esc quits); needs a display.",
        "facexpr webcam --camera 0",
    )
    webcam.add_argument("--camera", type=int, default=0)
    add_model_flags(webcam)
    webcam.add_argument("--smoothing", type=float, default=0.5)
    add_detect_every_flag(webcam)

    demo = add_command(
        subparsers,
        "demo",
        _demo,
        "Annotate the bundled sample photo (scikit-image's astronaut) and write the picture and its JSON.",
        "facexpr demo -o outputs/demo",
    )
    demo.add_argument("-o", "--out", default="outputs/demo", metavar="OUTDIR")
    add_model_flags(demo)

    bench = add_command(
        subparsers,
        "bench",
        _bench,
        "Measure annotate() latency and video frames/s on a 640x480 one-face frame (prints figures).",
        "facexpr bench --frames 300",
    )
    bench.add_argument("--frames", type=int, default=300)
    bench.add_argument("--repeats", type=int, default=100)
    bench.add_argument("--json", metavar="OUT.json", help="also write the figures here (with the machine's details)")
    add_model_flags(bench)


def add_model_flags(parser: argparse.ArgumentParser) -> None:
    """Which models read the faces: the preset's shipped ones, or ``.keras`` files of your own, and mirror averaging."""
    from detection.choice import DEFAULT_DETECTOR, DETECTORS
    from expressions.cliflags import add_abstain_flag, add_multiscale_flag, add_preset_flag
    from facexpr.cliflags import add_tta_flag

    add_preset_flag(parser)
    parser.add_argument(
        "--expression-model", metavar="MODEL", help="a .keras expression model of --preset (default: the shipped one)"
    )
    parser.add_argument("--keypoint-model", metavar="MODEL", help="a .keras keypoints model (default: the shipped one)")
    add_tta_flag(parser)
    add_multiscale_flag(parser)
    add_abstain_flag(parser)
    parser.add_argument(
        "--detector",
        choices=sorted(DETECTORS),
        default=DEFAULT_DETECTOR,
        help="the face detector: cnn (the project's own network), haar (OpenCV's cascade) or mtcnn (needs the mtcnn "
        "package)",
    )
    parser.add_argument(
        "--max-side",
        type=int,
        metavar="PX",
        help="cnn and haar: read pictures larger than this reduced to it (default 640; 1280 finds more of a large "
        "group photo's small faces, at more false alarms on large textures)",
    )


def model_choice(args: argparse.Namespace) -> ModelChoice:
    """The models ``add_model_flags`` describes, as settings a cluster worker can rebuild them from."""
    from pipeline.model_choice import ModelChoice

    return ModelChoice(
        args.preset,
        args.expression_model,
        args.keypoint_model,
        args.tta,
        tuple(args.scales),
        args.abstain,
        args.detector,
        args.max_side,
    )


def annotator_for(args: argparse.Namespace) -> Annotator:
    """The annotator ``add_model_flags`` describes (cached, so a second command in one process reuses it)."""
    return model_choice(args).annotator()


def add_engine_flags(parser: argparse.ArgumentParser) -> None:
    """Where ``annotate`` runs: this process, or a Ray cluster (and how there)."""
    from pipeline.collection import DEFAULT_BATCH_SIZE, ENGINES

    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: this process; ray: a Ray cluster, writing OUT/faces/*.parquet and OUT/errors.parquet "
        '(pip install "facexpr[ray]"; see docs/cluster.md)',
    )
    parser.add_argument(
        "--address",
        help="ray: the cluster, auto (the one running here) or ray://HOST:10001 "
        "(default: $RAY_ADDRESS, else a new Ray on this machine)",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="ray: actors, each holding the models (default: one per CPU)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        metavar="B",
        help=f"ray: images read per call and written per Parquet shard (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--draw",
        action="store_true",
        help="ray: also write drawn pictures and videos to OUT/drawn/ (local: always)",
    )


def add_detect_every_flag(parser: argparse.ArgumentParser) -> None:
    """How often a video's whole frame is searched for faces."""
    from pipeline.tracking import DETECT_EVERY

    parser.add_argument(
        "--detect-every",
        type=int,
        default=DETECT_EVERY,
        metavar="N",
        help="search the whole frame every N frames and follow faces in between (1: every frame)",
    )


def _annotate(args: argparse.Namespace) -> int:
    from pipeline.collection import annotate_collection

    summary = annotate_collection(
        args.inputs,
        args.out,
        args.engine,
        models=model_choice(args),
        address=args.address,
        workers=args.workers,
        batch_size=args.batch_size,
        draw=args.draw,
    )
    print(summary.headline())
    for file, error in summary.errors.items():
        print(f"failed: {file}: {error}", file=sys.stderr)
    return 1 if summary.errors else 0


def _video(args: argparse.Namespace) -> int:
    from pipeline.video import annotate_video

    summary = annotate_video(
        args.input,
        args.out,
        csv_path=args.csv,
        annotator=annotator_for(args),
        smoothing=args.smoothing,
        detect_every=args.detect_every,
        max_frames=args.max_frames,
    )
    state = " (interrupted)" if summary.interrupted else ""
    print(f"{summary.frames} frames, {summary.faces} face rows at {summary.fps:.1f} frames/s{state}")
    print(f"wrote {summary.video} and {summary.csv}")
    return 130 if summary.interrupted else 0


def has_display() -> bool:
    """Whether a window can be shown (always assumed on Windows and macOS)."""
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _webcam(args: argparse.Namespace) -> int:
    if not has_display():
        print(
            "facexpr: webcam needs a display (no DISPLAY or WAYLAND_DISPLAY is set); "
            "to annotate a recording instead, use `facexpr video IN -o OUT.mp4`.",
            file=sys.stderr,
        )
        return 2
    import cv2

    from pipeline.draw import draw
    from pipeline.video import Smoother, open_capture, video_reader

    annotator = video_reader(annotator_for(args), args.detect_every)
    smooth = Smoother(args.smoothing)
    capture = open_capture(args.camera)
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                print("facexpr: the camera stopped sending frames", file=sys.stderr)
                return 1
            faces = smooth(annotator.read(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)))
            cv2.imshow("facexpr (q quits)", draw(frame, faces))
            if cv2.waitKey(1) & 0xFF in (ord("q"), 27):
                return 0
    finally:
        capture.release()
        cv2.destroyAllWindows()


def _demo(args: argparse.Namespace) -> int:
    from expressions.reading import NO_LABEL
    from pipeline.api import annotate
    from pipeline.sample import sample_photo

    result = annotate(sample_photo(), annotator=annotator_for(args))
    out = Path(args.out)
    picture = result.save(out / "astronaut_annotated.png")
    result.to_json(out / "astronaut.json")
    for face in result.faces:
        print(f"face at {face.box}: " + (f"{face.label} ({face.confidence:.0%})" if face.label else NO_LABEL))
    print(f"wrote {picture} and {out / 'astronaut.json'}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from pipeline.benchmark import run_benchmark

    figures = run_benchmark(args.frames, args.repeats, annotator_for(args))
    if args.json:
        from facexpr.atomic import write_json
        from facexpr.training import machine_description

        print(f"wrote {write_json(args.json, {**figures, 'machine': machine_description()})}")
    return 0

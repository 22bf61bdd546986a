"""The Ray engine on a local Ray: the same faces as the local engine, bad files in the errors table, resumable runs;
and, without Ray, the collection's inputs, its output on another filesystem and a clear error without the extra."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

import pipeline
from facexpr.errors import InvalidInputError
from pipeline.cli import main
from pipeline.collection import annotate_collection
from pipeline.model_choice import ModelChoice
from pipeline.sample import sample_frame, sample_photo
from pipeline.video import annotate_video
from tests.conftest import copy_file

EXTRA = 'the ray extra is not installed: pip install -e ".[ray]"'
pytest.importorskip("pyarrow", reason=EXTRA)

ROOT = Path(__file__).resolve().parents[1]
GOOD_IMAGES = 60
BATCH = 16


@pytest.fixture(scope="module")
def ray_cluster() -> object:
    """A 2-CPU Ray on this machine for the module, kept small, shut down after."""
    ray = pytest.importorskip("ray", reason=EXTRA)
    ray.init(num_cpus=2, object_store_memory=200 * 1024**2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def write_video(path: Path, frames: int = 8) -> Path:
    """An mp4 of the sample frame drifting sideways, at 10 frames/s."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 480))
    for i in range(frames):
        writer.write(np.roll(sample_frame(), 8 * i, axis=1))
    writer.release()
    return path


def write_bad_files(folder: Path, good: Path) -> list[str]:
    """A text file named .jpg, a truncated JPEG (of a real picture) and an empty file; their paths, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.jpg").write_text("this is not a picture")
    encoded = cv2.imencode(".jpg", cv2.imread(str(good)))[1].tobytes()
    (folder / "truncated.jpg").write_bytes(encoded[: len(encoded) // 2])
    (folder / "empty.jpg").write_bytes(b"")
    return [str(folder / name) for name in ("empty.jpg", "notes.jpg", "truncated.jpg")]


def file_states(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its modification time (ns) and size."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size) for p in files}


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """`facexpr ARGV`: exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> dict:
    """60 real frames (40 in nested folders, 20 named by a text list), 3 bad files among them and a short video."""
    root = tmp_path_factory.mktemp("collection")
    frames = sorted((data_dir / "youtube-faces-keypoints" / "images").glob("*.png"))[::40][:GOOD_IMAGES]
    assert len(frames) == GOOD_IMAGES
    folder = root / "photos"
    images = [copy_file(f, folder / f"part{i % 3}" / f.name) for i, f in enumerate(frames[:40])]
    images += [copy_file(f, root / "listed" / f.name) for f in frames[40:]]
    listing = "# frames, one a line, relative to this list\n\n" + "".join(f"listed/{f.name}\n" for f in frames[40:])
    (root / "paths.txt").write_text(listing)
    bad = write_bad_files(folder / "bad", frames[0])
    video = write_video(root / "clip.mp4")
    inputs = [str(folder), str(root / "paths.txt"), str(video)]
    return {"root": root, "inputs": inputs, "images": [str(p) for p in images], "bad": bad, "video": str(video)}


@pytest.fixture(scope="module")
def ray_run(tmp_path_factory: pytest.TempPathFactory, collection: dict, ray_cluster: object) -> dict:
    """The collection through `facexpr annotate --engine ray` with 2 workers and batches of 16."""
    out = tmp_path_factory.mktemp("ray") / "out"
    argv = ["annotate", *collection["inputs"], "-o", str(out), "--engine", "ray", "--workers", "2"]
    status, stdout, stderr = run_cli([*argv, "--batch-size", str(BATCH)])
    return {"out": out, "status": status, "stdout": stdout, "stderr": stderr}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory, collection: dict) -> dict:
    """The same 63 image files through the local engine (the text list named file by file), and the video through
    `facexpr video`'s reader."""
    out = tmp_path_factory.mktemp("local")
    summary = annotate_collection([*collection["images"], *collection["bad"]], out / "images", progress=False)
    annotate_video(collection["video"], None, csv_path=out / "clip.csv", progress=False)
    return {
        "summary": summary,
        "faces": pd.read_csv(out / "images" / "faces.csv"),
        "video": pd.read_csv(out / "clip.csv"),
    }


def test_ray_run_names_the_bad_files_and_fails(ray_run: dict, collection: dict) -> None:
    assert ray_run["status"] == 1
    failed = sorted(line.split(": ")[1] for line in ray_run["stderr"].splitlines() if line.startswith("failed: "))
    assert failed == collection["bad"]
    assert f"annotated {GOOD_IMAGES} image(s) and 1 video(s)" in ray_run["stdout"]


def test_ray_faces_match_the_local_engine(ray_run: dict, local_run: dict) -> None:
    faces = pd.read_parquet(ray_run["out"] / "faces")
    local = local_run["faces"]
    assert list(faces.columns) == list(local.columns)  # faces.csv's columns, source first
    assert len(local) >= GOOD_IMAGES * 0.8  # real frames: nearly every one has a face
    key = ["source", "face"]
    faces, local = (table.sort_values(key).reset_index(drop=True) for table in (faces, local))
    assert faces[[*key, "label"]].values.tolist() == local[[*key, "label"]].values.tolist()
    numbers = [c for c in local.columns if c not in ("source", "output", "label")]
    np.testing.assert_allclose(faces[numbers].to_numpy(float), local[numbers].to_numpy(float), rtol=0, atol=1e-4)
    assert faces["output"].isna().all()  # nothing drawn without --draw


def test_errors_table_names_the_bad_files(ray_run: dict, local_run: dict, collection: dict) -> None:
    errors = pd.read_parquet(ray_run["out"] / "errors.parquet").sort_values("path")
    assert errors["path"].tolist() == collection["bad"]
    assert set(errors["error_type"]) == {"InvalidImageError"}
    assert dict(zip(errors["path"], errors["message"], strict=True)) == local_run["summary"].errors  # same words


def test_video_rows_match_facexpr_video(ray_run: dict, local_run: dict, collection: dict) -> None:
    rows = pd.read_parquet(ray_run["out"] / "video_faces")
    assert (rows.pop("source") == collection["video"]).all()
    expected = local_run["video"]
    assert len(expected) >= 8 and rows["frame"].tolist() == expected["frame"].tolist()  # a row per face per frame
    assert rows["label"].tolist() == expected["label"].tolist()
    numbers = [c for c in expected.columns if c != "label"]
    np.testing.assert_allclose(rows[numbers].to_numpy(float), expected[numbers].to_numpy(float), rtol=0, atol=1e-4)


def test_manifest_names_the_inputs_of_each_shard(ray_run: dict, collection: dict) -> None:
    entries = [json.loads(p.read_text()) for p in sorted((ray_run["out"] / "manifest").glob("*.json"))]
    covered = sorted(name for entry in entries for name in entry["inputs"])
    assert covered == sorted([*collection["images"], *collection["bad"], collection["video"]])
    sizes = sorted(len(entry["inputs"]) for entry in entries if entry["kind"] == "images")
    assert sizes == [15, 16, 16, 16]  # 63 images in batches of 16
    assert [entry["inputs"] for entry in entries if entry["kind"] == "video"] == [[collection["video"]]]
    assert {p.stem for p in (ray_run["out"] / "faces").glob("*.parquet")} == {
        entry["shard"] for entry in entries if entry["kind"] == "images"
    }


def test_a_rerun_writes_nothing_new(ray_run: dict, collection: dict) -> None:
    before = file_states(ray_run["out"])
    summary = annotate_collection(collection["inputs"], ray_run["out"], "ray", batch_size=BATCH, progress=False)
    assert summary.shards_written == 0 and summary.shards_skipped == 5
    assert sorted(summary.errors) == collection["bad"] and summary.images == GOOD_IMAGES
    assert file_states(ray_run["out"]) == before


def test_a_stopped_run_is_finished_by_the_next(ray_run: dict, collection: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(ray_run["out"], out)
    lost = sorted((out / "manifest").glob("images-*.json"))[0]  # as if its shard was in flight when the run stopped
    lost.unlink()
    before = {k: v for k, v in file_states(out).items() if lost.stem not in k and k != "errors.parquet"}
    (out / "faces" / "images-0000000000000000.parquet").write_bytes(b"half a file")  # a shard in flight's rows
    summary = annotate_collection(collection["inputs"], out, "ray", batch_size=BATCH, workers=1, progress=False)
    assert summary.shards_written == 1 and summary.shards_skipped == 4
    assert not (out / "faces" / "images-0000000000000000.parquet").exists()
    assert lost.is_file()
    after = file_states(out)
    assert {k: after[k] for k in before} == before  # the other shards untouched
    key = ["source", "face"]
    redone, first = (pd.read_parquet(o / "faces").sort_values(key, ignore_index=True) for o in (out, ray_run["out"]))
    pd.testing.assert_frame_equal(redone, first)


def test_other_models_cannot_join_an_output(ray_run: dict, collection: dict) -> None:
    before = file_states(ray_run["out"])
    with pytest.raises(InvalidInputError, match="other models"):
        annotate_collection(collection["inputs"], ray_run["out"], "ray", models=ModelChoice("fer7"), progress=False)
    assert file_states(ray_run["out"]) == before


def test_draw_writes_pictures_and_videos(tmp_path: Path, ray_cluster: object) -> None:
    photo = tmp_path / "in" / "astronaut.png"
    photo.parent.mkdir()
    cv2.imwrite(str(photo), sample_photo())
    video = write_video(tmp_path / "in" / "clip.mp4", frames=3)
    status, _, _ = run_cli(["annotate", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--engine", "ray", "--draw"])
    assert status == 0
    faces = pd.read_parquet(tmp_path / "out" / "faces")
    assert len(faces) == 1
    drawn = cv2.imread(str(tmp_path / "out" / faces["output"].iloc[0]))
    assert drawn.shape == sample_photo().shape and not np.array_equal(drawn, sample_photo())
    record = json.loads(next((tmp_path / "out" / "manifest").glob("video-*.json")).read_text())
    capture = cv2.VideoCapture(str(tmp_path / "out" / record["drawn"][0]))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 3 and record["inputs"] == [str(video)]
    capture.release()


# Without Ray: inputs, output on another filesystem, the extra's absence, engine options.


def test_lists_folders_and_uris_expand_to_images_and_videos(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    from pipeline.sources import list_sources, read_bytes

    for name in ("a.jpg", "sub/b.PNG", "sub/c.mp4", "notes.md"):
        (tmp_path / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / name).write_bytes(name.encode())
    (tmp_path / "list.txt").write_text("# comment\nin/a.jpg\n\n  in/sub  \nmissing.jpg\n")
    (tmp_path / "list.csv").write_text("id,path\n1,in/a.jpg\n2,memory://fx-none/x.jpg\n")
    sources = list_sources([tmp_path / "list.txt", tmp_path / "list.csv", f"file://{tmp_path}/in/a.jpg"])
    local = str(tmp_path / "in")
    assert sources.images == [
        f"{local}/a.jpg",
        f"{local}/sub/b.PNG",
        str(tmp_path / "missing.jpg"),
        "memory://fx-none/x.jpg",
    ]
    assert sources.videos == [f"{local}/sub/c.mp4"]

    memory = fsspec.filesystem("memory")
    memory.pipe({"/fx-test/in/x.jpg": b"x", "/fx-test/in/deep/y.avi": b"y", "/fx-test/in/z.txt": b"z"})
    remote = list_sources(["memory://fx-test/in"])
    assert remote.images == ["memory://fx-test/in/x.jpg"] and remote.videos == ["memory://fx-test/in/deep/y.avi"]
    assert read_bytes("memory://fx-test/in/x.jpg") == b"x"


def test_a_worker_reads_and_writes_on_another_filesystem(tmp_path: Path) -> None:
    fsspec = pytest.importorskip("fsspec")
    from pipeline.shard_worker import ShardWriter
    from pipeline.shards import Output, plan
    from pipeline.sources import list_sources

    memory = fsspec.filesystem("memory")
    memory.pipe({"/fx-worker/in/astronaut.png": cv2.imencode(".png", sample_photo())[1].tobytes()})
    memory.pipe({"/fx-worker/in/bad.png": b"not a picture"})
    (task,) = plan(list_sources(["memory://fx-worker/in"]), set(), batch_size=8)
    record = ShardWriter("memory://fx-worker/out", ModelChoice(), draw=True).run(task)
    assert record.faces == 1 and [e.path for e in record.errors] == ["memory://fx-worker/in/bad.png"]
    output = Output("memory://fx-worker/out")
    assert output.records() == [record]
    faces = pd.read_parquet(io.BytesIO(output.read(f"faces/{task.shard}.parquet")))
    assert faces["source"].tolist() == ["memory://fx-worker/in/astronaut.png"]
    drawn = cv2.imdecode(np.frombuffer(output.read(faces["output"][0]), np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape == (512, 512, 3)


def test_batched_reading_gives_the_faces_of_one_by_one_reading() -> None:
    from pipeline.api import default_annotator
    from pipeline.shard_worker import Detected, read_detected

    annotator = default_annotator()
    pictures = [cv2.cvtColor(p, cv2.COLOR_BGR2GRAY) for p in (sample_photo(), np.zeros((64, 64, 3), np.uint8))]
    pictures.append(np.hstack([pictures[0], pictures[0][:, ::-1]]))
    batched = read_detected(annotator, [Detected(*annotator.find(gray)) for gray in pictures])
    single = [annotator.read(gray) for gray in pictures]
    assert [len(faces) for faces in batched] == [len(faces) for faces in single] == [1, 0, 2]
    for ours, theirs in zip(sum(batched, []), sum(single, []), strict=True):
        assert ours.box == theirs.box and ours.label == theirs.label
        np.testing.assert_allclose(ours.keypoints, theirs.keypoints, atol=1e-3)


def test_without_the_extra_the_ray_engine_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if it were not installed
    monkeypatch.delitem(sys.modules, "pipeline.ray_engine", raising=False)
    monkeypatch.delattr(pipeline, "ray_engine", raising=False)
    with pytest.raises(InvalidInputError, match=r'pip install "facexpr\[ray\]"'):
        annotate_collection([tmp_path], tmp_path / "out", "ray")
    status, _, stderr = run_cli(["annotate", str(tmp_path), "-o", str(tmp_path / "out"), "--engine", "ray"])
    assert status == 2 and 'pip install "facexpr[ray]"' in stderr


def test_only_the_ray_engine_imports_ray() -> None:
    importers = []
    for package in ("facexpr", "detection", "keypoints", "expressions", "pipeline"):
        for file in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                if any(name.split(".")[0] == "ray" for name in names):
                    importers.append(str(file.relative_to(ROOT)))
    assert sorted(set(importers)) == ["pipeline/ray_engine.py"]


def test_ray_options_are_refused_by_the_local_engine(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="workers, batch_size: only for the ray engine"):
        annotate_collection([tmp_path], tmp_path / "out", workers=2, batch_size=8)
    status, _, stderr = run_cli(["annotate", str(tmp_path), "-o", str(tmp_path / "out"), "--address", "auto"])
    assert status == 2 and "address: only for the ray engine" in stderr
    with pytest.raises(InvalidInputError, match="batch_size must be at least 1"):
        annotate_collection([tmp_path], tmp_path / "out", "ray", batch_size=0)
    assert not (tmp_path / "out").exists()

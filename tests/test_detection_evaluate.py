"""``facexpr detect evaluate`` and ``compare``: the matcher and the verdict on hand-made cases, landmark boxes, the
split, the CLI on real photos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from detection.compare import count_difference, verdict
from detection.datasets import AnnotatedImage, load_wild_faces, load_youtube_frames
from detection.detectors import Detection
from detection.evaluate import average_precision, match
from detection.split import heldout_groups, select_part
from facexpr.errors import InvalidInputError
from facexpr.intervals import group_interval
from pipeline.cli import main
from tests.conftest import make_wild_subset, make_youtube_subset

BOXES = np.array([[0.0, 0.0, 100.0, 100.0], [200.0, 0.0, 100.0, 100.0]])
CENTRES = np.array([[50.0, 50.0], [250.0, 50.0]])


def test_match_is_one_to_one_by_score_and_iou_threshold() -> None:
    near, nearer, far = (
        Detection((5, 5, 100, 100), 1.0),
        Detection((0, 0, 100, 100), 3.0),
        Detection((400, 0, 50, 50), 2.0),
    )
    assert match([near, nearer, far], BOXES, CENTRES, "iou") == [-1, 0, -1]  # the higher score takes face 0
    shifted = Detection((200 + 40, 0, 100, 100), 1.0)  # IoU 60/140 = 0.43 with face 1
    assert match([shifted], BOXES, CENTRES, "iou") == [-1]
    assert match([shifted], BOXES, CENTRES, "centre") == [1]  # its box still holds face 1's centre


def test_match_by_centre_takes_the_nearest_free_face() -> None:
    wide = Detection((0, 0, 280, 100), 2.0)  # holds both centres; face 0 is nearer its centre (140, 50)
    small = Detection((10, 10, 60, 60), 1.0)  # holds only face 0's centre
    assert match([wide, small], BOXES, CENTRES, "centre") == [0, -1]
    assert match([small, wide], BOXES, CENTRES, "centre") == [-1, 0]  # order comes from the scores, not the list
    lone = Detection((180, 0, 140, 100), 1.0)
    assert match([lone], BOXES, CENTRES, "centre") == [1]


def test_average_precision_counts_ties_as_one_point() -> None:
    assert average_precision(np.ones(4), np.array([1, 1, 0, 1], bool), 5) == pytest.approx(0.75 * 0.6)
    assert average_precision(np.array([3.0, 2.0, 1.0]), np.array([1, 1, 0], bool), 2) == pytest.approx(1.0)
    assert average_precision(np.zeros(0), np.zeros(0, bool), 3) == 0.0


def test_a_wild_photo_names_its_collection(data_dir: Path) -> None:
    sources = {image.source for image in load_wild_faces(data_dir)}
    assert sources == {"afw", "helen"}
    assert {image.source for image in load_youtube_frames(data_dir)[:3]} == {"youtube-faces"}


def test_landmark_boxes_hold_their_centres_at_sane_sizes(data_dir: Path) -> None:
    images = load_wild_faces(data_dir)[:40] + load_youtube_frames(data_dir)[:40]
    for image in images:
        for box, centre, points in zip(image.boxes, image.centres, image.landmarks, strict=True):
            x, y, w, h = box
            assert x <= centre[0] <= x + w and y <= centre[1] <= y + h
            extent = (points.max(axis=0) - points.min(axis=0)).max()
            assert w == h and extent <= w <= 1.5 * extent and 10 < w < 1000


def test_split_is_by_photo_and_seeded(data_dir: Path) -> None:
    photos = load_wild_faces(data_dir)
    names = [p.name for p in photos]
    assert len(names) == len(set(names))  # one entry per photo: all its faces travel together
    held = heldout_groups([p.group for p in photos])
    assert held == heldout_groups([p.group for p in photos])
    assert 0.1 < len(held) / len(photos) < 0.2
    frames = load_youtube_frames(data_dir)
    test = select_part(frames, "test")
    people = {f.group for f in test}
    assert all(f.group not in people for f in frames if f not in test)


def test_validation_part_is_apart_from_the_test_part(data_dir: Path) -> None:
    for images in (load_wild_faces(data_dir), load_youtube_frames(data_dir)):
        test, val = ({i.group for i in select_part(images, part)} for part in ("test", "val"))
        assert val and not val & test
        assert 0.05 < len(val) / len({i.group for i in images}) < 0.15


def test_group_interval_resamples_whole_groups() -> None:
    faces = np.full(30, 4.0)
    same = np.full(30, 3.0)
    assert group_interval((same, same, faces), count_difference) == (0.0, 0.0)  # no resample can differ
    better = same + (np.arange(30) % 3 == 0)  # b finds one more face in every third group
    low, high = group_interval((better, same, faces), count_difference)
    assert 0.0 < low < 10 / 120 < high < 0.2


def test_verdict_needs_the_whole_interval() -> None:
    def row(recall: tuple[float, float], alarms: tuple[float, float]) -> dict[str, tuple[float, float]]:
        return {"recall_difference_ci95": recall, "false_alarm_difference_ci95": alarms}

    assert verdict(row((0.01, 0.05), (-0.1, 0.2))) == "b is better"  # more faces, alarms no different
    assert verdict(row((0.0, 0.0), (-0.3, -0.1))) == "b is better"  # the same faces, fewer alarms
    assert verdict(row((-0.02, 0.03), (-0.3, -0.1))) == "b is better"  # fewer alarms, recall no different
    assert verdict(row((0.01, 0.05), (0.1, 0.3))) == "no difference the split can tell"  # a trade
    assert verdict(row((-0.05, -0.01), (0.0, 0.0))) == "a is better"
    assert verdict(row((-0.02, 0.03), (-0.1, 0.1))) == "no difference the split can tell"


def test_a_bad_part_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InvalidInputError):
        select_part([], "train")
    assert main(["detect", "evaluate", "--part", "train"]) == 2
    assert "--part must be one of" in capsys.readouterr().err


def _subset(root: Path, data_dir: Path, photos: list[AnnotatedImage], frames: pd.DataFrame) -> Path:
    """A data directory of a few wild-faces photos and YouTube frames (images symlinked)."""
    return make_youtube_subset(make_wild_subset(root, data_dir, [p.name for p in photos]), data_dir, frames)


def test_cli_finds_most_big_helen_faces(tmp_path: Path, data_dir: Path, youtube_table: pd.DataFrame) -> None:
    helen = [p for p in load_wild_faces(data_dir) if p.name.startswith("helen_train") and p.boxes[0, 2] > 150][:6]
    data = _subset(tmp_path / "data", data_dir, helen, youtube_table.iloc[:4])
    out = tmp_path / "out"
    assert main(["detect", "evaluate", "--data", str(data), "--part", "all", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    wild = metrics["sets"]["wild-faces-68"]
    assert wild["faces"] == len(helen) and 0.0 <= wild["recall_iou"] <= 1.0
    assert wild["recall_centre"] >= 4 / 6
    assert wild["recall_iou_by_source"] == {"helen": {"faces": len(helen), "recall": wild["recall_iou"]}}
    assert set(metrics["sets"]["youtube-faces"]["recall_iou_by_source"]) == {"youtube-faces"}
    assert metrics["ms_per_640x480_frame"] > 0
    backlit = metrics["backlit"]["wild-faces-68"]
    assert set(backlit) == {"x0.3", "x0.2"} and all(m["faces"] == len(helen) for m in backlit.values())
    table = pd.read_csv(out / "per_image.csv")
    assert len(table) == len(helen) + 4 and (out / "errors.png").stat().st_size > 0


def test_cli_compares_two_detectors_on_the_same_photos(
    tmp_path: Path, data_dir: Path, youtube_table: pd.DataFrame
) -> None:
    photos = [p for p in load_wild_faces(data_dir) if p.name.startswith("afw")][:3]
    data = _subset(tmp_path / "data", data_dir, photos, youtube_table.iloc[:4])
    out = tmp_path / "compare.json"
    assert main(["detect", "compare", "haar", "haar", "--data", str(data), "--part", "all", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    wild = result["sets"]["wild-faces-68"]
    assert wild["groups"] == 3 and wild["faces"] == sum(len(p.boxes) for p in photos)
    assert wild["recall_a"] == wild["recall_b"] and wild["recall_difference_ci95"] == [0.0, 0.0]
    assert wild["verdict"] == "no difference the split can tell"
    assert main(["detect", "compare", "haar", "nosuch", "--data", str(data)]) == 2
    assert main(["detect", "compare", "haar", "haar", "--threshold-b", "0.5", "--data", str(data)]) == 2

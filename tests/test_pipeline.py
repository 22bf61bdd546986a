"""The pipeline: faces in real photos, every input form, video round trip, folders with bad files, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import keras
import numpy as np
import pandas as pd
import pytest
from PIL import ExifTags, Image

import keypoints
from detection.detectors import Detection
from expressions.config import ExpressionConfig
from expressions.inference import ExpressionModel
from expressions.model import build_model
from expressions.views import MULTISCALE
from facexpr.compiled import CompiledModel
from facexpr.errors import DataNotFoundError, InvalidInputError
from facexpr.images import image_files
from pipeline import Annotator, InvalidImageError, annotate
from pipeline.annotator import FaceCrops, aligned_crops, face_crops
from pipeline.api import default_annotator
from pipeline.batch import annotate_files
from pipeline.cli import main
from pipeline.sample import sample_frame, sample_photo
from pipeline.video import BackgroundWriter, annotate_video


@pytest.fixture(scope="module")
def annotator() -> Annotator:
    """Shipped keypoints; the shipped expression model where present, else an untrained one (labels unchecked)."""
    import expressions

    try:
        expression_model = expressions.load_model("fer5")
    except DataNotFoundError:
        tiny = ExpressionConfig(stem_filters=8, stage_filters=(8, 16), blocks_per_stage=(1, 1))
        expression_model = ExpressionModel(build_model(tiny), "fer5")
    return Annotator(keypoint_model=keypoints.load_model(), expression_model=expression_model)


@pytest.fixture()
def default_is_test_annotator(annotator: Annotator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.api.default_annotator", lambda *args, **kwargs: annotator)


def test_sample_photo_has_one_face_with_sane_keypoints(annotator: Annotator) -> None:
    result = annotate(sample_photo(), annotator=annotator)
    assert len(result.faces) == 1
    face = result.faces[0]
    x, y, w, h = face.box
    points = face.keypoints
    assert points.shape == (15, 2)
    assert ((points[:, 0] >= x) & (points[:, 0] <= x + w) & (points[:, 1] >= y) & (points[:, 1] <= y + h)).all()
    eyes_y = max(face.keypoint("left_eye_center")[1], face.keypoint("right_eye_center")[1])
    assert eyes_y < face.keypoint("mouth_center_top_lip")[1] < face.keypoint("mouth_center_bottom_lip")[1] + 1
    assert face.keypoint("left_eye_center")[0] > face.keypoint("right_eye_center")[0]  # subject's left = image right
    assert abs(sum(face.probabilities.values()) - 1.0) < 1e-4 and face.label in face.probabilities
    assert result.image.shape == sample_photo().shape and not np.array_equal(result.image, sample_photo())


def test_read_crops_reads_like_each_model_alone(annotator: Annotator) -> None:
    photo = sample_photo()
    gray = cv2.cvtColor(np.hstack([photo, photo[:, ::-1]]), cv2.COLOR_RGB2GRAY)
    found = annotator.detector.detect(gray)
    crops = face_crops(gray, found)
    points, labels, probs = annotator.read_crops(crops)
    assert len(found) >= 2 and points.shape == (len(found), 15, 2) and probs.shape == (len(found), 5)
    alone_points, eyes = annotator.keypoint_model.predict_with_eyes(crops.keypoint, crops.context)
    np.testing.assert_allclose(points, alone_points, atol=1e-3)
    assert annotator.expression_model.aligned  # read aligned; its abstainer reads the framed crops too
    alone_labels, alone_probs = annotator.expression_model.predict(
        aligned_crops(crops.expression, eyes), crops.expression
    )
    np.testing.assert_allclose(probs, alone_probs, atol=1e-5)
    assert labels == alone_labels
    first_read, first_eyes = annotator.keypoint_model.predict_with_eyes(crops.keypoint)
    assert np.abs(points - first_read).max() > 0.05  # the second read moved the points; the eyes are the first read's
    np.testing.assert_allclose(eyes, first_eyes, atol=1e-5)
    empty = FaceCrops(crops.keypoint[:0], [], crops.context[:0], crops.expression[:0])
    none_points, none_labels, none_probs = annotator.read_crops(empty)
    assert none_points.shape == (0, 15, 2) and none_labels == [] and none_probs.shape == (0, 5)


def test_an_empty_batch_gets_an_empty_output() -> None:
    small = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    assert CompiledModel(small)(np.zeros((0, 4, 4, 1), np.float32)).shape == (0, 3)


def test_a_large_batch_goes_through_in_chunks_with_the_same_outputs() -> None:
    small = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    batch = np.random.default_rng(0).normal(size=(10, 4, 4, 1)).astype(np.float32)
    model, sizes = CompiledModel(small, chunk=4), []
    whole = model._run
    model._run = lambda part: sizes.append(len(part)) or whole(part)
    chunked = model(batch)
    assert sizes == [4, 4, 2] and chunked.shape == (10, 3)
    np.testing.assert_allclose(chunked, small(batch), atol=1e-5)


def test_two_faces_side_by_side(annotator: Annotator) -> None:
    photo = sample_photo()
    assert len(annotate(np.hstack([photo, photo[:, ::-1]]), annotator=annotator).faces) == 2


def test_blank_image_has_no_face(annotator: Annotator, tmp_path: Path) -> None:
    blank = np.full((300, 400, 3), 127, np.uint8)
    result = annotate(blank, annotator=annotator)
    empty = result.to_dataframe()
    assert result.faces == [] and len(empty) == 0
    assert list(empty.columns) == list(annotate(sample_photo(), annotator=annotator).to_dataframe().columns)
    assert "p_Happy" in empty.columns and "mouth_center_bottom_lip_y" in empty.columns
    assert json.loads(result.to_json())["faces"] == []
    cv2.imwrite(str(tmp_path / "blank.png"), blank)
    summary = annotate_files([tmp_path / "blank.png"], tmp_path / "out", annotator=annotator, progress=False)
    table = pd.read_csv(tmp_path / "out" / "faces.csv")
    assert len(table) == 0 and list(table.columns) == ["source", "output", *empty.columns]
    assert list(summary.faces.columns) == list(table.columns)


def test_every_input_form_gives_the_same_faces(annotator: Annotator, tmp_path: Path) -> None:
    bgr = sample_photo()
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), bgr)
    deep = tmp_path / "astronaut-16bit-gray.png"
    cv2.imwrite(str(deep), cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257)
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    forms = {
        "path": (path, "bgr"),
        "16-bit gray file": (deep, "bgr"),
        "bgr": (bgr, "bgr"),
        "gray": (cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), "bgr"),
        "bgra": (cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA), "bgr"),
        "rgb": (rgb, "rgb"),
        "pil": (Image.fromarray(rgb), "bgr"),
        "float": (bgr.astype(np.float32) / 255.0, "bgr"),
    }
    reference = annotate(bgr, annotator=annotator).faces
    for name, (image, color) in forms.items():
        faces = annotate(image, color=color, annotator=annotator).faces
        assert [f.box for f in faces] == [f.box for f in reference], name
        assert np.allclose(faces[0].keypoints, reference[0].keypoints, atol=0.5), name
    rgb_result = annotate(rgb, color="rgb", annotator=annotator)
    assert np.array_equal(rgb_result.image, cv2.cvtColor(annotate(bgr, annotator=annotator).image, cv2.COLOR_BGR2RGB))


@pytest.mark.parametrize(("orientation", "turns"), [(6, 1), (8, 3), (3, 2)])
def test_a_phone_photo_is_read_upright_by_its_exif_orientation(
    annotator: Annotator, tmp_path: Path, orientation: int, turns: int
) -> None:
    bgr = sample_photo()[:, 40:]  # not square, so a turned reading shows in the shape too
    stored = Image.fromarray(np.rot90(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), turns))  # the pixels as the camera wrote
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    path = tmp_path / "phone.jpg"
    stored.save(path, quality=95, exif=exif)
    reference = annotate(bgr, annotator=annotator).faces
    for image in (path, Image.open(path)):
        faces = annotate(image, annotator=annotator).faces
        assert len(faces) == len(reference) == 1
        assert np.allclose(faces[0].box, reference[0].box, atol=4)


def test_an_iphone_heic_photo_is_read(annotator: Annotator, tmp_path: Path) -> None:
    bgr = sample_photo()
    Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).save(tmp_path / "IMG_0001.HEIC", quality=90)
    reference = annotate(bgr, annotator=annotator).faces
    faces = annotate(tmp_path / "IMG_0001.HEIC", annotator=annotator).faces
    assert len(faces) == len(reference) == 1
    assert np.allclose(faces[0].box, reference[0].box, atol=4)
    assert image_files(tmp_path) == [tmp_path / "IMG_0001.HEIC"]


def test_result_tables_and_files(annotator: Annotator, tmp_path: Path) -> None:
    result = annotate(sample_photo(), annotator=annotator)
    frame = result.to_dataframe()
    assert {"x", "y", "w", "h", "score", "label", "left_eye_center_x", "mouth_center_bottom_lip_y"} <= set(
        frame.columns
    )
    result.save(tmp_path / "out.jpg")
    assert cv2.imread(str(tmp_path / "out.jpg")).shape == sample_photo().shape
    data = json.loads(result.to_json(tmp_path / "faces.json"))
    assert (
        data["faces"][0]["keypoints"]["nose_tip"]
        == json.loads((tmp_path / "faces.json").read_text())["faces"][0]["keypoints"]["nose_tip"]
    )
    with pytest.raises(AttributeError):
        result.faces[0].label = "Happy"  # type: ignore[misc]


class RecordingWriter:
    """Stands in for cv2.VideoWriter: keeps what it is given, and fails on a frame marked -1."""

    def __init__(self) -> None:
        self.written: list[int] = []
        self.released = False

    def write(self, frame: np.ndarray) -> None:
        if frame[0, 0] < 0:
            raise OSError("disk full")
        self.written.append(int(frame[0, 0]))

    def release(self) -> None:
        self.released = True


def test_background_writer_keeps_order_and_reports_failure() -> None:
    recorder = RecordingWriter()
    writer = BackgroundWriter(recorder, depth=2)
    for i in range(20):
        writer.write(np.full((2, 2), i))
    writer.release()
    assert recorder.written == list(range(20)) and recorder.released
    failing = BackgroundWriter(RecordingWriter())
    failing.write(np.full((2, 2), -1))
    with pytest.raises(OSError, match="disk full"):
        failing.release()


def _write_video(path: Path, frames: list[np.ndarray]) -> Path:
    """An mp4 of ``frames`` (BGR, all one size) at 10 frames/s."""
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def test_video_round_trip(annotator: Annotator, tmp_path: Path) -> None:
    frames = [np.roll(sample_frame(), 8 * i, axis=1) for i in range(6)] + [np.zeros((480, 640, 3), np.uint8)] * 2
    source = _write_video(tmp_path / "clip.mp4", frames)
    summary = annotate_video(source, tmp_path / "out.mp4", annotator=annotator, smoothing=0.5, progress=False)
    decoded = []
    capture = cv2.VideoCapture(str(source))
    while (frame := capture.read())[0]:
        decoded.append(len(annotate(frame[1], annotator=annotator, draw=False).faces))
    assert summary.frames == 8 and decoded[6:] == [0, 0] and min(decoded[:6]) >= 1
    assert summary.faces == sum(decoded)
    capture = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
    ok, first = capture.read()
    capture.release()
    assert ok and first.shape == (480, 640, 3)
    table = pd.read_csv(tmp_path / "out.csv")
    assert table.groupby("frame").size().tolist() == decoded[:6]  # one row per face per frame
    assert table["time"].iloc[-1] == pytest.approx(table["frame"].iloc[-1] / 10.0)
    assert {"time", "x", "label", "nose_tip_x"} <= set(table.columns)
    blank = _write_video(tmp_path / "blank.mp4", frames[-1:])
    annotate_video(blank, None, csv_path=tmp_path / "blank.csv", annotator=annotator, progress=False)
    empty = pd.read_csv(tmp_path / "blank.csv")
    assert len(empty) == 0 and list(empty.columns) == list(table.columns)  # no face, every column still named


def test_folder_with_bad_files(
    tmp_path: Path, default_is_test_annotator: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "in" / "nested"
    folder.mkdir(parents=True)
    cv2.imwrite(str(folder / "good.jpg"), sample_photo())
    encoded = cv2.imencode(".jpg", sample_photo())[1].tobytes()
    (folder / "truncated.jpg").write_bytes(encoded[: len(encoded) // 2])
    (folder / "notes.jpg").write_text("this is not a picture")
    out = tmp_path / "out"
    assert main(["annotate", str(tmp_path / "in"), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    notes, truncated = sorted(line for line in err.splitlines() if line.startswith("failed: "))
    assert notes == f"failed: {folder / 'notes.jpg'}: not an image file (unrecognised format)"  # the file named once
    assert truncated.startswith(f"failed: {folder / 'truncated.jpg'}: unreadable or truncated image (")
    assert (out / "good_annotated.png").is_file()
    faces = pd.read_csv(out / "faces.csv")
    assert len(faces) == 1 and faces["source"].iloc[0].endswith("good.jpg")
    summary = json.loads((out / "faces.json").read_text())
    assert summary["annotated"] == 1
    assert summary["errors"][str(folder / "notes.jpg")] == "not an image file (unrecognised format)"


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("folder", InvalidInputError, "a folder, not a video file"),
        ("missing.mp4", FileNotFoundError, "missing.mp4: video file not found"),
        ("notes.jpg", InvalidInputError, "notes.jpg: not a readable video"),
        ("notes.mp4", InvalidInputError, "notes.mp4: not a readable video"),
    ],
)
def test_a_bad_video_source_is_named_and_nothing_is_written(
    annotator: Annotator, tmp_path: Path, name: str, error: type[Exception], message: str
) -> None:
    (tmp_path / "folder").mkdir()
    for text in ("notes.jpg", "notes.mp4"):
        (tmp_path / text).write_text("this is not a video")
    with pytest.raises(error, match=message):
        annotate_video(tmp_path / name, tmp_path / "out.mp4", annotator=annotator, progress=False)
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--smoothing", "1.5"], "smoothing must be in [0, 1), got 1.5"),
        (["--detect-every", "0"], "searching the whole frame every N frames needs N >= 1, got 0"),
    ],
)
@pytest.mark.usefixtures("default_is_test_annotator")
def test_out_of_range_video_flags_are_named_and_nothing_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    source = _write_video(tmp_path / "clip.mp4", [np.zeros((48, 64, 3), np.uint8)])
    assert main(["video", str(source), "-o", str(tmp_path / "out.mp4"), *flags]) == 2
    assert f"facexpr: error: {message}" in capsys.readouterr().err
    assert not list(tmp_path.glob("out*"))


def _truncated_jpeg(tmp_path: Path) -> Path:
    encoded = cv2.imencode(".jpg", sample_photo())[1].tobytes()
    path = tmp_path / "cut.jpg"
    path.write_bytes(encoded[: len(encoded) // 3])
    return path


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: None, InvalidImageError, "is None"),
        (lambda p: np.zeros((0, 10, 3), np.uint8), InvalidImageError, "empty"),
        (lambda p: np.zeros(100, np.uint8), InvalidImageError, "1-D"),
        (lambda p: np.zeros((20, 20, 5), np.uint8), InvalidImageError, "5 channels"),
        (lambda p: np.zeros((20, 20), np.complex64), InvalidImageError, "dtype complex64"),
        (lambda p: np.zeros((20, 20), object), InvalidImageError, "dtype object"),
        (_truncated_jpeg, InvalidImageError, "truncated"),
        (lambda p: (p / "text.jpg").write_text("hello") and p / "text.jpg", InvalidImageError, "not an image"),
        (lambda p: p / "missing.png", FileNotFoundError, "not found"),
        (lambda p: 42, InvalidImageError, "from int"),
    ],
)
def test_bad_input_raises_clear_errors(annotator: Annotator, tmp_path: Path, make, error, message: str) -> None:
    with pytest.raises(error, match=message):
        annotate(make(tmp_path), annotator=annotator)
    assert issubclass(InvalidImageError, ValueError)


def test_a_picture_past_pillows_pixel_limit_is_a_clear_error(
    annotator: Annotator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "panorama.png"
    cv2.imwrite(str(path), sample_photo())
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100_000)  # 512x512 is over twice the limit, as 180 MP would be
    with pytest.raises(InvalidImageError, match="panorama.png: too many pixels to read safely"):
        annotate(path, annotator=annotator)


def test_demo_command_writes_the_picture_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "-o", str(tmp_path)]) == 0  # the shipped models, as a new user runs it
    picture = cv2.imread(str(tmp_path / "astronaut_annotated.png"))
    assert picture is not None and picture.shape == sample_photo().shape
    faces = json.loads((tmp_path / "astronaut.json").read_text())["faces"]
    assert len(faces) == 1 and faces[0]["label"] in ("Angry", "Disgust", "Sad", "Happy", "Surprise")
    assert "wrote" in capsys.readouterr().out


def test_commands_read_faces_with_the_models_and_reading_they_are_given(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keras.utils.set_random_seed(3)
    tiny = build_model(ExpressionConfig(stem_filters=8, stage_filters=(8, 16), blocks_per_stage=(1, 1), input_size=40))
    tiny.save(tmp_path / "tiny.keras")
    argv = ["demo", "-o", str(tmp_path / "out"), "--expression-model", str(tmp_path / "tiny.keras"), "--no-tta"]
    assert main(argv) == 0
    face = json.loads((tmp_path / "out" / "astronaut.json").read_text())["faces"][0]
    tiny_once = ExpressionModel(keras.models.load_model(tmp_path / "tiny.keras"), "fer5", tta=False)
    read_once = Annotator(keypoint_model=keypoints.load_model(tta=False), expression_model=tiny_once)
    expected = annotate(sample_photo(), annotator=read_once).faces[0]
    assert face["probabilities"] == pytest.approx(expected.probabilities, abs=1e-4)
    assert np.array(list(face["keypoints"].values())) == pytest.approx(expected.keypoints, abs=0.01)
    mirror_averaged = Annotator(keypoint_model=keypoints.load_model(), expression_model=tiny_once)
    assert not np.allclose(annotate(sample_photo(), annotator=mirror_averaged).faces[0].keypoints, expected.keypoints)

    (tmp_path / "notes.keras").write_text("not a model")
    wrong = {
        ("--keypoint-model", "none.keras"): "keypoints model not found",
        ("--keypoint-model", "tiny.keras"): "a network with 5 outputs is not a keypoints model",
        ("--expression-model", "notes.keras"): "notes.keras: not a readable expression model",
    }
    for (flag, name), message in wrong.items():
        assert main(["demo", "-o", str(tmp_path / "x"), flag, str(tmp_path / name)]) == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_bench_command_prints_and_writes_its_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--frames", "4", "--repeats", "2", "--no-tta", "--multiscale"]
    assert main([*argv, "--json", str(tmp_path / "bench.json")]) == 0
    printed = capsys.readouterr().out
    figures = json.loads((tmp_path / "bench.json").read_text())
    assert figures["models"].startswith("keypoints 96x96, fer5 ") and "mirror" not in figures["models"]  # --no-tta
    assert figures["models"].endswith("at 7 scales")  # --multiscale
    # the annotator the command built is cached, and a list of the same zooms finds it
    assert default_annotator("fer5", None, None, False, list(MULTISCALE)) is default_annotator(
        "fer5", None, None, False, MULTISCALE
    )
    assert f"models: {figures['models']}" in printed
    assert figures["faces_in_frame"] == 1 and figures["video_frames"] == 4
    timings = [value for key, value in figures.items() if key.endswith(("_ms", "video_fps_detect_every_1"))]
    assert len(timings) == 10 and all(value > 0 for value in timings) and "prepare_picture_median_ms" in figures
    assert figures["machine"]["cpu_count"] == figures["cpu_cores"]


def test_a_face_tilted_40_degrees_is_found_turned_and_read_upright(annotator: Annotator) -> None:
    photo = sample_photo()
    clean = annotate(photo, annotator=annotator).faces[0]
    x, y, w, h = clean.box
    turn = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), 40, 1.0)
    gray = cv2.cvtColor(cv2.warpAffine(photo, turn, (512, 512), borderMode=cv2.BORDER_REPLICATE), cv2.COLOR_BGR2GRAY)
    truth = clean.keypoints @ turn[:, :2].T + turn[:, 2]  # the upright photo's points, turned with it
    found = annotator.detector.detect(gray)
    assert len(found) == 1 and found[0].angle == -30.0  # the reading turned back 30 degrees found it
    upright, turned = (
        annotator.faces_of([d], face_crops(gray, [d]))[0] for d in (found[0], Detection(found[0].box, found[0].score))
    )
    assert np.abs(upright.keypoints - truth).mean() < 0.7 < np.abs(turned.keypoints - truth).mean()
    assert np.abs(upright.keypoints - truth).max() < 2.0 < np.abs(turned.keypoints - truth).max()
    assert upright.label == clean.label

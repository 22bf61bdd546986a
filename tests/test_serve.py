"""``facexpr serve``: the HTTP API over real HTTP (uvicorn on a free port) and the page in headless Chromium."""

from __future__ import annotations

import configparser
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image

pytest.importorskip("fastapi", reason="the serve extra is not installed: pip install -e '.[serve,dev]'")
httpx = pytest.importorskip("httpx", reason="httpx (dev extra) is not installed")
import uvicorn  # noqa: E402

from pipeline.annotator import Annotator  # noqa: E402
from pipeline.api import annotate, default_annotator  # noqa: E402
from pipeline.benchmark import write_test_video  # noqa: E402
from pipeline.sample import sample_photo  # noqa: E402
from pipeline.serve.app import LOCAL_HOSTS, create_app  # noqa: E402
from pipeline.serve.headless import CHROMIUM, FAKE_CAMERA_ARGS, launch_chromium  # noqa: E402
from pipeline.serve.jobs import ServerBusyError, UnknownJobError, VideoJobs  # noqa: E402
from pipeline.serve.models import SharedAnnotator  # noqa: E402
from pipeline.serve.uploads import Limits  # noqa: E402

if TYPE_CHECKING:
    from playwright.sync_api import Browser

#: Small limits, so the size tests send little.
LIMITS = Limits(max_bytes=2_000_000, max_pixels=4_000_000)


def png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def expected_document(image: np.ndarray, name: str, annotator: Annotator) -> dict:
    """What the server should answer for ``image`` sent as ``name``: the library's own JSON document."""
    return json.loads(replace(annotate(image, annotator=annotator, draw=False), source=name).to_json())


@pytest.fixture(scope="module")
def annotator() -> Annotator:
    return default_annotator()


@pytest.fixture(scope="module")
def server(annotator: Annotator) -> Iterator[str]:
    """uvicorn serving the app in a thread, on a free port of 127.0.0.1; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(annotator, LIMITS, hosts=LOCAL_HOSTS)
    uvi = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=uvi.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uvi.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvi.should_exit = True
    thread.join(timeout=30)
    sock.close()


def post_picture(server: str, data: bytes, name: str, **params: str) -> httpx.Response:
    return httpx.post(f"{server}/api/annotate", files={"file": (name, data)}, params=params, timeout=60)


def test_health_says_ready_with_the_models_classes(server: str, annotator: Annotator) -> None:
    answer = httpx.get(f"{server}/api/health")
    assert answer.status_code == 200
    health = answer.json()
    assert health["status"] == "ok"
    assert health["classes"] == list(annotator.expression_model.classes)
    assert len(health["keypoints"]) == 15 and health["max_upload_mb"] == 2


def test_a_photo_gets_the_document_to_json_writes(server: str, annotator: Annotator) -> None:
    answer = post_picture(server, png(sample_photo()), "astronaut.png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    document = answer.json()
    assert document == expected_document(sample_photo(), "astronaut.png", annotator)
    assert len(document["faces"]) == 1 and document["faces"][0]["label"] == "Happy"


def test_an_iphone_heic_photo_is_read(server: str) -> None:
    heic = io.BytesIO()
    Image.fromarray(cv2.cvtColor(sample_photo(), cv2.COLOR_BGR2RGB)).save(heic, format="HEIF", quality=90)
    answer = post_picture(server, heic.getvalue(), "IMG_0001.HEIC")
    assert answer.status_code == 200 and [f["label"] for f in answer.json()["faces"]] == ["Happy"]


def test_image_png_returns_the_drawn_picture(server: str, annotator: Annotator) -> None:
    answer = post_picture(server, png(sample_photo()), "astronaut.png", image="png")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
    drawn = cv2.imdecode(np.frombuffer(answer.content, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(drawn, annotate(sample_photo(), annotator=annotator).image)


def test_16_parallel_requests_each_get_their_own_faces(server: str, annotator: Annotator) -> None:
    """Sixteen different pictures (the photo scaled and placed differently) sent at once: each answer is its own."""
    photo = sample_photo()
    pictures = []
    for i in range(16):
        side = 256 + 12 * i
        canvas = np.full((480, 640, 3), 40, np.uint8)
        x, y = (i * 37) % (641 - side), (i * 23) % (481 - side)
        canvas[y : y + side, x : x + side] = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
        pictures.append(canvas)
    expected = [expected_document(p, f"picture{i}.png", annotator) for i, p in enumerate(pictures)]
    boxes = [tuple(e["faces"][0]["box"].values()) for e in expected]
    assert len(set(boxes)) == 16, "the pictures must differ, or mixed answers would go unseen"
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: post_picture(server, png(pictures[i]), f"picture{i}.png"), range(16)))
    assert [a.status_code for a in answers] == [200] * 16
    assert [a.json() for a in answers] == expected


@pytest.mark.parametrize(
    ("name", "data", "status", "says"),
    [
        ("notes.txt", b"these are not pixels\n" * 20, 415, "not a picture"),
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(2000), 415, "not a picture"),
        ("half.png", png(sample_photo())[:20_000], 422, "truncated"),
        ("empty.jpg", b"", 422, "empty"),
    ],
)
def test_a_bad_upload_gets_a_4xx_naming_the_problem(
    server: str, name: str, data: bytes, status: int, says: str
) -> None:
    answer = post_picture(server, data, name)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert name in answer.json()["detail"] and says in answer.json()["detail"]


def test_a_missing_field_or_bad_option_is_named(server: str) -> None:
    wrong_field = httpx.post(f"{server}/api/annotate", files={"picture": ("a.png", png(sample_photo()))})
    assert wrong_field.status_code == 422 and wrong_field.json()["detail"] == "form field 'file': Field required"
    wrong_format = post_picture(server, png(sample_photo()), "a.png", image="gif")
    assert wrong_format.status_code == 422 and "query parameter 'image'" in wrong_format.json()["detail"]


def test_size_and_pixel_limits(server: str) -> None:
    over_request = post_picture(server, bytes(3_000_000), "big.jpg")  # refused from its Content-Length
    assert over_request.status_code == 413 and "limit of 2.1 MB" in over_request.json()["detail"]
    just_over = post_picture(server, bytes(2_000_100), "big.jpg")  # within the multipart allowance: read, refused
    assert just_over.status_code == 413 and "big.jpg: 2.0 MB is over this server's limit" in just_over.json()["detail"]
    huge = post_picture(server, png(np.zeros((2000, 2100), np.uint8)), "huge.png")  # 4.2 megapixels, a small file
    assert huge.status_code == 413 and "huge.png: 2100x2000 is 4.2 megapixels" in huge.json()["detail"]


def test_a_chunked_upload_without_length_or_a_foreign_host_is_refused(server: str) -> None:
    chunked = httpx.post(f"{server}/api/annotate", content=iter([b"--x\r\n"]), headers={"content-type": "text/plain"})
    assert chunked.status_code == 411 and "Content-Length" in chunked.json()["detail"]
    rebound = httpx.get(f"{server}/api/health", headers={"host": "attacker.example"})
    assert rebound.status_code == 400


def test_the_server_keeps_serving_after_bad_uploads(server: str, annotator: Annotator) -> None:
    for data in (b"junk", png(sample_photo())[:5000], bytes(3_000_000)):
        assert post_picture(server, data, "bad.png").status_code in (413, 415, 422)
    answer = post_picture(server, png(sample_photo()), "astronaut.png")
    assert answer.status_code == 200
    assert answer.json() == expected_document(sample_photo(), "astronaut.png", annotator)


def wait_for_job(server: str, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = httpx.get(f"{server}/api/jobs/{job_id}").json()
        if status["state"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.2)


def test_a_video_job_reports_progress_then_links_its_video_and_csv(server: str, tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=24)
    started = httpx.post(f"{server}/api/video", files={"file": ("clip.mp4", clip.read_bytes())}, timeout=60)
    assert started.status_code == 202 and started.json()["state"] in ("queued", "running", "done")
    status = wait_for_job(server, started.json()["id"])
    assert status["state"] == "done", status
    assert (status["frames"], status["total"], status["progress"]) == (24, 24, 1.0)
    video = httpx.get(server + status["video"])
    assert video.status_code == 200 and video.headers["content-type"] == "video/webm"
    assert video.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    assert 'filename="clip_annotated.webm"' in video.headers["content-disposition"]
    saved = tmp_path / "annotated.webm"
    saved.write_bytes(video.content)
    capture = cv2.VideoCapture(str(saved))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == 24
    table = pd.read_csv(io.BytesIO(httpx.get(server + status["csv"]).content))
    assert len(table) == 24 and set(table["frame"]) == set(range(24)) and (table["label"] == "Happy").all()


def test_a_bad_video_or_unknown_job_gets_a_4xx(server: str) -> None:
    bad = httpx.post(f"{server}/api/video", files={"file": ("clip.mp4", b"not a video at all" * 50)})
    assert bad.status_code == 415 and "clip.mp4: not a video" in bad.json()["detail"]
    unknown = httpx.get(f"{server}/api/jobs/0123abcd")
    assert unknown.status_code == 404 and "0123abcd" in unknown.json()["detail"]
    assert httpx.get(f"{server}/api/jobs/0123abcd/video").status_code == 404
    assert httpx.get(f"{server}/api/jobs/..%2F..%2Fetc%2Fpasswd/csv").status_code == 404


def test_video_jobs_delete_uploads_forget_old_jobs_and_clean_up(annotator: Annotator, tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=24)
    jobs = VideoJobs(SharedAnnotator(annotator), LIMITS, keep=1)
    with open(clip, "rb") as upload:
        first = jobs.submit(upload, "first.mp4")
    while not first.finished:
        time.sleep(0.05)
    assert first.state == "done"
    assert sorted(p.name for p in first.folder.iterdir()) == ["annotated.csv", "annotated.webm"]  # upload deleted
    with open(clip, "rb") as upload:
        second = jobs.submit(upload, "second.mp4")  # keep=1: the finished first job is forgotten, its files deleted
    assert not first.folder.exists()
    with pytest.raises(UnknownJobError):
        jobs.get(first.id)
    with open(clip, "rb") as upload, pytest.raises(ServerBusyError):
        jobs.submit(upload, "third.mp4")  # the second is still waiting or running
    jobs.close()  # stops the second mid-way and deletes every file
    assert second.state != "done" and not jobs.folder.exists()


def test_openapi_documents_the_api(server: str) -> None:
    schema = httpx.get(f"{server}/openapi.json").json()
    assert {"/api/annotate", "/api/video", "/api/jobs/{job_id}", "/api/health"} <= set(schema["paths"])
    annotate_doc = schema["paths"]["/api/annotate"]["post"]
    assert {"200", "413", "415", "422"} <= set(annotate_doc["responses"])
    docs = httpx.get(f"{server}/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (its own browser download cannot work here)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); the page's browser test needs it")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright, FAKE_CAMERA_ARGS)
        yield browser
        browser.close()


def test_the_page_reads_a_photo(server: str, browser: Browser, annotator: Annotator, tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(png(sample_photo()))
    expected = expected_document(sample_photo(), "astronaut.png", annotator)["faces"][0]
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(server)
    page.wait_for_selector("#status:has-text('ready')")
    page.set_input_files("#files", str(photo))
    card = page.wait_for_selector(".photo.done", timeout=30_000)
    assert card.query_selector(".summary").inner_text() == "1 face"
    rows = card.query_selector_all(".faces tbody tr")
    assert len(rows) == 1
    assert rows[0].query_selector("td.label").inner_text() == expected["label"] == "Happy"
    assert rows[0].query_selector(".cls.top").inner_text() == "Happy"
    assert len(rows[0].query_selector_all(".probs .bar")) == len(annotator.expression_model.classes)
    assert card.query_selector("canvas").evaluate("c => [c.width, c.height]") == [512, 512]
    # the label is drawn on the picture: just above the box's top-left corner is the label's green background
    x, y = expected["box"]["x"] + 1, expected["box"]["y"] - 2
    pixel = card.query_selector("canvas").evaluate(f"c => [...c.getContext('2d').getImageData({x}, {y}, 1, 1).data]")
    assert pixel[:3] == [60, 200, 80]
    assert card.query_selector("a.json").get_attribute("download") == "astronaut.json"
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert not problems, problems
    page.close()


def test_the_page_plays_an_annotated_video(server: str, browser: Browser, tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=15)
    page = browser.new_page()
    page.goto(server)
    page.set_input_files("#files", str(clip))
    card = page.wait_for_selector(".video.done", timeout=60_000)
    assert card.query_selector(".summary").inner_text() == "15 frames"
    video = card.query_selector("video")
    page.wait_for_function("v => v.readyState >= 2 && v.videoWidth === 640", arg=video, timeout=15_000)
    assert card.query_selector("a.csv").get_attribute("download") == "clip_annotated.csv"
    page.close()


def test_an_unreadable_file_shows_its_error_on_the_page(server: str, browser: Browser, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture\n")
    page = browser.new_page()
    page.goto(server)
    page.set_input_files("#files", str(notes))
    card = page.wait_for_selector(".photo.failed", timeout=30_000)
    assert "notes.txt: not a picture" in card.query_selector(".summary").inner_text()
    page.close()


def test_the_webcam_mode_sends_frames_and_draws_back(server: str, browser: Browser) -> None:
    page = browser.new_page()
    page.goto(server)
    page.wait_for_selector("#status:has-text('ready')")
    page.click("#camera-start")
    readout = page.wait_for_selector("#webcam-fps[data-fps]", timeout=30_000)
    assert float(readout.get_attribute("data-fps")) > 0
    assert "frames/s · 0 faces · sent at 480x360" in readout.inner_text()  # the fake camera's pattern has no face
    assert page.eval_on_selector("#webcam-view", "c => [c.width, c.height]") == [640, 480]
    page.click("#camera-stop")
    assert page.is_hidden("#webcam")
    page.close()


def test_the_page_ships_in_the_package() -> None:
    """setup.cfg's package data covers the page's files, so an installed (not editable) facexpr serves them."""
    from pipeline.serve.app import STATIC

    config = configparser.ConfigParser()
    config.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    patterns = [p.strip() for p in config["options.package_data"]["pipeline.serve"].split(",")]
    shipped = {f.relative_to(STATIC.parent).as_posix() for pattern in patterns for f in STATIC.parent.glob(pattern)}
    assert {"static/index.html", "static/app.js", "static/style.css"} <= shipped

"""Benchmark script: latency and throughput of ``facexpr serve``'s ``POST /api/annotate``, and the page's webcam
frames/s in headless Chromium (prints a table).

    .venv/bin/python benchmarks/bench_serve.py                 # starts `facexpr serve` on a free port
    .venv/bin/python benchmarks/bench_serve.py --webcam 20     # + 20 s of the page's webcam mode (fake camera)

Every request sends the same 640x480 JPEG (the sample frame: one face). Latency is one client sending one request
at a time; throughput is 1, 2 and 4 clients sending at once, each on its own keep-alive connection. For scale, the
same JPEG read in this process by ``annotate()`` (decoded, no HTTP) is timed too.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import httpx
import numpy as np

from pipeline.sample import sample_frame
from pipeline.serve.headless import FAKE_CAMERA_ARGS, launch_chromium


def in_process_ms(photo: bytes, repeats: int) -> float:
    """Median milliseconds of decoding ``photo`` and reading it with ``annotate()`` here, without the server."""
    from pipeline.api import annotate, default_annotator

    annotator = default_annotator()
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        annotate(cv2.imdecode(np.frombuffer(photo, np.uint8), cv2.IMREAD_COLOR), annotator=annotator, draw=False)
        times.append((time.perf_counter() - start) * 1000.0)
    return float(np.median(times[2:]))


def start_server() -> tuple[subprocess.Popen, str]:
    """``facexpr serve`` on a free port of 127.0.0.1, once its health answers; the process and its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", str(port)])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/api/health").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("facexpr serve did not come up")


def send(client: httpx.Client, url: str, photo: bytes) -> float:
    """One ``POST /api/annotate``; its wall time in milliseconds."""
    start = time.perf_counter()
    answer = client.post(f"{url}/api/annotate", files={"file": ("frame.jpg", photo, "image/jpeg")})
    answer.raise_for_status()
    return (time.perf_counter() - start) * 1000.0


def latency(url: str, photo: bytes, requests: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``requests`` requests sent one at a time, after five warm-up requests."""
    with httpx.Client(timeout=60) as client:
        for _ in range(5):
            send(client, url, photo)
        times = [send(client, url, photo) for _ in range(requests)]
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def throughput(url: str, photo: bytes, clients: int, requests: int) -> float:
    """Requests answered per second with ``clients`` clients sending ``requests`` requests between them."""
    share = [requests // clients + (i < requests % clients) for i in range(clients)]

    def client_run(count: int) -> None:
        with httpx.Client(timeout=60) as client:
            for _ in range(count):
                send(client, url, photo)

    threads = [threading.Thread(target=client_run, args=(count,)) for count in share]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return requests / (time.perf_counter() - start)


def write_y4m(path: Path, frames: int = 60) -> Path:
    """A Y4M clip of the sample frame drifting sideways: what Chromium's fake camera shows the page."""
    base = sample_frame()
    height, width = base.shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            shifted = np.roll(base, int(round(20 * np.sin(i / 10))), axis=1)
            out.write(b"FRAME\n" + cv2.cvtColor(shifted, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def webcam_readout(url: str, seconds: float) -> str:
    """What the page's webcam mode shows (frames/s over the last 2 s, faces) after ``seconds``, with Chromium's fake
    camera playing the sample frame."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        clip = write_y4m(Path(folder) / "camera.y4m")
        browser = launch_chromium(playwright, [*FAKE_CAMERA_ARGS, f"--use-file-for-fake-video-capture={clip}"])
        page = browser.new_page()
        page.goto(url)
        page.wait_for_selector("#status:has-text('ready')")
        page.click("#camera-start")
        page.wait_for_selector("#webcam-fps[data-fps]", timeout=30_000)
        time.sleep(seconds)
        text = page.locator("#webcam-fps").inner_text()
        browser.close()
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: start `facexpr serve` on a free port)")
    parser.add_argument("--requests", type=int, default=100, help="requests per measurement")
    parser.add_argument("--webcam", type=float, metavar="SECONDS", help="also run the page's webcam mode this long")
    args = parser.parse_args()
    _, encoded = cv2.imencode(".jpg", sample_frame(), [cv2.IMWRITE_JPEG_QUALITY, 90])
    photo = encoded.tobytes()
    process, url = (None, args.url) if args.url else start_server()
    try:
        if args.webcam:  # first: it has the machine to itself sooner, should others be using it
            readout = webcam_readout(url, args.webcam)
            print(f"webcam mode in headless Chromium (fake camera, 640x480), after {args.webcam:g} s: {readout}")
        p50, p95 = latency(url, photo, args.requests)
        alone = in_process_ms(photo, args.requests)
        rates = [throughput(url, photo, clients, args.requests) for clients in (1, 2, 4)]
        print(f"POST /api/annotate, one 640x480 JPEG ({len(photo) / 1000:.0f} kB), {args.requests} requests")
        print(f"| latency p50 | latency p95 | {' | '.join(f'{c} client(s)' for c in (1, 2, 4))} |")
        print(f"| {p50:.1f} ms | {p95:.1f} ms | {' | '.join(f'{r:.1f} req/s' for r in rates)} |")
        print(f"annotate() on the same JPEG in this process, no HTTP: {alone:.1f} ms median")
    finally:
        if process is not None:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=30)


if __name__ == "__main__":
    main()

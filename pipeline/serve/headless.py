"""Debian's Chromium started headless, for the page's tests and benchmarks: where it lies and the flags a machine
without internet needs (Playwright's own browser download cannot work there)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
#: Without the background-networking flags Chromium keeps trying, and failing, to reach Google's hosts.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: Chromium's own fake camera, allowed without asking (a test pattern unless a file is named for it).
FAKE_CAMERA_ARGS = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def launch_chromium(playwright: Any, extra_args: Sequence[str] = ()) -> Any:
    """A headless Chromium browser from a started ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, *extra_args])

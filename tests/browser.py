"""Headless Debian Chromium for tests that look at a page as a person would. CI installs it
(.ci/run) and sets DETOUR_REQUIRE_BROWSER=1, so there a missing browser fails instead of skipping."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

OFFLINE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("DETOUR_REQUIRE_BROWSER"):
        pytest.fail("chromium is not installed (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium) — browser checks skipped")


def run_chromium(url: str, profile: Path, *flags: str, offline: bool = False) -> str:
    """Load `url` in headless Chromium and return what it printed (e.g. with --dump-dom)."""
    extra = ['--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'] if offline else []
    done = subprocess.run(
        [chromium(), *OFFLINE_FLAGS, f"--user-data-dir={profile}", *extra, *flags, url],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def keep_screenshot(shot: Path, target: Path, top: Path | None = None, top_height: int = 1000) -> None:
    """With DETOUR_UPDATE_SCREENSHOTS set, store a screenshot in docs/ as a 256-colour PNG (a tenth of the bytes),
    and its first `top_height` pixels in `top` (what a README can show of a page thousands of pixels tall)."""
    if os.environ.get("DETOUR_UPDATE_SCREENSHOTS"):
        from PIL import Image

        image = Image.open(shot).convert("RGB")
        image.quantize(256).save(target, optimize=True)
        if top:
            image.crop((0, 0, image.width, min(top_height, image.height))).quantize(256).save(top, optimize=True)

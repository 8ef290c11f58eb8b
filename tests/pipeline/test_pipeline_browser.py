"""The report as a browser shows it: headless Chromium loads the page, decodes every image, takes a screenshot.

Skipped where Debian's ``chromium`` is not installed (``.ci/run`` installs it when it can).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (apt-get install chromium)")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

# appended to a copy of the page only: the report itself carries no script
PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = Array.from(document.images);
  const ok = imgs.filter((i) => i.complete && i.naturalWidth > 0);
  document.body.setAttribute("data-images", imgs.length + "/" + ok.length);
  document.body.setAttribute("data-width", String(document.documentElement.scrollWidth));
});
</script>"""


def _chromium(*args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def test_the_report_renders_with_every_image_in_chromium(finished, tmp_path):
    cfg, _, _ = finished
    page = cfg.out / "report" / "report.html"
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "\n</body>"), encoding="utf-8")
    dom = _chromium("--virtual-time-budget=10000", "--window-size=1280,2000", "--dump-dom", probe.as_uri()).stdout
    m = re.search(r'data-images="(\d+)/(\d+)"', dom)
    assert m, "the page did not finish loading in Chromium"
    total, decoded = map(int, m.groups())
    assert total >= 3 and decoded == total
    assert int(re.search(r'data-width="(\d+)"', dom).group(1)) <= 1280  # nothing wider than the window
    assert "Comparison" in dom and "±" in dom


def test_a_screenshot_of_the_report_is_not_blank(finished, tmp_path):
    import numpy as np
    from PIL import Image

    cfg, _, _ = finished
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1280,2000", (cfg.out / "report" / "report.html").as_uri())
    assert shot.is_file()
    img = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert img.shape == (2000, 1280)
    assert img.std() > 20 and (img < 100).mean() > 0.005  # text and plots, not an empty or error page

"""Open report.html in headless Chromium (Debian's `chromium`): it must render, images included.

Skipped when chromium is missing, except under CI (env CI set), where that is a failure.
"""
import os
import shutil
import subprocess

import pytest

pytest.importorskip("matplotlib")

from pipeline.report import write_report  # noqa: E402

from .fixture_run import make_run_dir  # noqa: E402

# Injected into a copy of the page: records each image's decoded width in the DOM.
PROBE = """<script>
window.addEventListener('load', () => {
  const widths = Array.from(document.images).map(i => i.complete ? i.naturalWidth : -1);
  document.body.setAttribute('data-image-widths', widths.join(','));
});
</script></body>"""


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium); CI needs it")
        pytest.skip("chromium not installed")
    return exe


def run_chromium(tmp_path, *args) -> subprocess.CompletedProcess:
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def test_report_renders_in_chromium_with_every_image_decoded(tmp_path):
    page = write_report(make_run_dir(tmp_path, emulated=True))
    probe = page.with_name("probe.html")
    probe.write_text(page.read_text().replace("</body>", PROBE))
    res = run_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri())
    assert res.returncode == 0, res.stderr[-2000:]
    marker = 'data-image-widths="'
    assert marker in res.stdout, "the page's load event never ran"
    widths = [int(w) for w in res.stdout.split(marker, 1)[1].split('"', 1)[0].split(",")]
    assert len(widths) == 4 and all(w > 100 for w in widths), widths


def test_report_screenshot_is_not_blank(tmp_path):
    import matplotlib.image as mpimg

    page = write_report(make_run_dir(tmp_path))
    shot = tmp_path / "shot.png"
    res = run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri())
    assert res.returncode == 0 and shot.is_file(), res.stderr[-2000:]
    img = mpimg.imread(shot)[..., :3]
    ink = (img.mean(axis=2) < 0.9).mean()  # share of pixels that are not (near) white
    assert img.shape[:2] == (2000, 1200) and 0.02 < ink < 0.9, ink
    if os.environ.get("EDGEPRUNE_KEEP_SCREENSHOT"):
        shutil.copy(shot, os.environ["EDGEPRUNE_KEEP_SCREENSHOT"])

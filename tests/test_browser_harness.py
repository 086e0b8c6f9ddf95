"""The browser harness (tests/_browser.py) can tell a clean report from a broken one.

Each test renders a tiny hand-written page in headless Chromium; the broken pages prove
that the harness reports console errors, uncaught errors, undecodable images and network
requests instead of passing them silently.
"""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import pytest

from tests._browser import (  # noqa: F401  (browser_fixture provides fixture "browser")
    PageReport,
    artifacts_dir,
    browser_fixture,
    browser_missing_reason,
    browser_or_skip,
)

pytestmark = pytest.mark.browser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tiny_png(width: int = 8, height: int = 5, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid RGB PNG made by hand (no imaging library)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + bytes(rgb) * width
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (PNG_MAGIC + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(row * height))
            + chunk(b"IEND", b""))


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def page(tmp_path: Path, body: str, title: str = "test page") -> Path:
    p = tmp_path / "page.html"
    p.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>body{{font-family:sans-serif}}</style></head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return p


def test_clean_page(browser, tmp_path):
    html = page(tmp_path, f"""
        <h1>Report</h1>
        <section id="summary"><h2>Summary</h2><p>All good.</p></section>
        <section id="plots"><h2>Plots</h2>
          <img alt="red" src="{data_uri(tiny_png())}" width="80" height="50"></section>
        <section id="tables"><h2>Tables</h2><table><tr><td>1</td></tr></table></section>
    """, title="lstmtune clean")
    shot = artifacts_dir("browser-harness") / "clean.png"
    shot.unlink(missing_ok=True)

    rep = browser.render(html, screenshot=shot)

    assert rep.problems() == []
    assert rep.ok
    rep.assert_clean(warnings=True)
    assert rep.title == "lstmtune clean"
    assert rep.url.startswith("file://")
    assert rep.section_ids == ["summary", "plots", "tables"]
    assert rep.h2_texts == ["Summary", "Plots", "Tables"]
    assert len(rep.images) == 1
    img = rep.images[0]
    assert img.decoded and img.complete
    assert (img.natural_width, img.natural_height) == (8, 5)
    assert img.alt == "red"
    assert rep.external_requests == [] and rep.failed_requests == []
    assert rep.requests == [rep.url]  # the page itself; data: images make no request
    assert rep.screenshot == shot
    data = shot.read_bytes()
    assert data[:8] == PNG_MAGIC
    w, h = struct.unpack(">II", data[16:24])
    assert w == 1280 and h >= 100


def test_console_error_and_uncaught_error_reported(browser, tmp_path):
    html = page(tmp_path, """
        <section id="a"><h2>A</h2></section>
        <script>console.error("boom"); console.warn("careful");</script>
        <script>setTimeout(() => { throw new Error("late kaboom"); }, 0);</script>
    """)
    rep = browser.render(html)
    assert rep.console_errors == ["boom"]
    assert rep.console_warnings == ["careful"]
    assert len(rep.page_errors) == 1 and "late kaboom" in rep.page_errors[0]
    assert not rep.ok
    assert "console error: boom" in rep.problems()
    assert "console warning: careful" in rep.problems(warnings=True)
    with pytest.raises(AssertionError, match="boom"):
        rep.assert_clean()


def test_broken_data_image_reported(browser, tmp_path):
    good = data_uri(tiny_png())
    bad = "data:image/png;base64," + base64.b64encode(b"this is not a png").decode()
    html = page(tmp_path, f'<img alt="good" src="{good}"><img alt="bad" src="{bad}">')
    rep = browser.render(html)
    assert [im.alt for im in rep.images] == ["good", "bad"]
    assert rep.images[0].decoded
    assert rep.images[1].natural_width == 0 and not rep.images[1].decoded
    assert [im.alt for im in rep.broken_images] == ["bad"]
    assert rep.external_requests == []
    assert any("image not decoded" in p for p in rep.problems())
    with pytest.raises(AssertionError, match="image not decoded"):
        rep.assert_clean()


def test_network_request_recorded_and_blocked(browser, tmp_path):
    html = page(tmp_path, """
        <section id="s"><h2>S</h2><img alt="remote" src="https://example.com/x.png"></section>
        <link rel="stylesheet" href="http://example.org/style.css">
    """)
    rep = browser.render(html)
    assert "https://example.com/x.png" in rep.external_requests
    assert "http://example.org/style.css" in rep.external_requests
    assert {u for u, _ in rep.failed_requests} >= set(rep.external_requests)  # blocked
    assert rep.images[0].natural_width == 0
    probs = rep.problems()
    assert any("network request" in p and "example.com/x.png" in p for p in probs)
    with pytest.raises(AssertionError, match="self-contained"):
        rep.assert_clean()


def test_missing_local_file_reported(browser, tmp_path):
    html = page(tmp_path, '<img alt="gone" src="does-not-exist.png">')
    rep = browser.render(html)
    assert rep.external_requests == []
    assert any(u.endswith("does-not-exist.png") for u, _ in rep.failed_requests)
    assert not rep.ok


def test_render_missing_html_raises(browser, tmp_path):
    with pytest.raises(FileNotFoundError):
        browser.render(tmp_path / "nope.html")


def test_page_report_problems_without_browser():
    """PageReport's verdict logic, runnable with no browser at all."""
    rep = PageReport(url="file:///x.html")
    assert rep.ok and rep.problems() == []
    rep.external_requests.append("https://cdn.example/plotly.js")
    assert rep.problems() == [
        "network request (reports must be self-contained): https://cdn.example/plotly.js"
    ]


def test_missing_browser_skips_locally_and_fails_when_required(monkeypatch):
    """The skip/require rule, exercised by pointing at a Chromium that isn't there."""
    pytest.importorskip("playwright.sync_api")
    monkeypatch.setenv("LSTMTUNE_CHROMIUM", "/nonexistent/chromium")
    reason = browser_missing_reason()
    assert reason is not None and ".ci/install-browser" in reason

    monkeypatch.delenv("LSTMTUNE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="install-browser"):
        browser_or_skip()
    monkeypatch.setenv("LSTMTUNE_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="LSTMTUNE_REQUIRE_BROWSER"):
        browser_or_skip()
    monkeypatch.setenv("LSTMTUNE_REQUIRE_BROWSER", "0")
    with pytest.raises(pytest.skip.Exception):
        browser_or_skip()

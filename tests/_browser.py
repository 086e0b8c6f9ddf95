"""A small real-browser harness for lstmtune's HTML reports.

Loads a report from disk (``file://``) in headless Chromium, driven by Playwright's Python
package, and returns what a reader's browser would have seen: console errors and warnings,
uncaught page errors, every request that was not ``file:``/``data:`` (a report must be
self-contained, so these are recorded and *blocked*, never sent), failed requests, the
``<section id>`` ids and ``<h2>`` texts, each ``<img>``'s decode state, the title, and a
full-page screenshot.

The browser is Debian's Chromium at ``/usr/bin/chromium`` (or ``$LSTMTUNE_CHROMIUM``);
nothing here downloads a browser (no ``playwright install``). Install it with
``.ci/install-browser``. Without it, browser tests skip -- unless
``LSTMTUNE_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where they fail instead.

Use::

    from tests._browser import artifacts_dir, browser_fixture  # noqa: F401 (fixture "browser")

    @pytest.mark.browser
    def test_report(browser, tmp_path):
        page = browser.render(html, screenshot=artifacts_dir() / "report.png")
        page.assert_clean()
        assert page.section_ids == [...]
"""

from __future__ import annotations

import atexit
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "ARTIFACTS_ENV",
    "CHROMIUM_ARGS",
    "CHROMIUM_ENV",
    "REQUIRE_ENV",
    "Browser",
    "ImageInfo",
    "PageReport",
    "artifacts_dir",
    "browser_fixture",
    "browser_missing_reason",
    "browser_or_skip",
    "chromium_path",
    "close_shared_browser",
    "render",
    "shared_browser",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ENV = "LSTMTUNE_CHROMIUM"
REQUIRE_ENV = "LSTMTUNE_REQUIRE_BROWSER"
ARTIFACTS_ENV = "LSTMTUNE_ARTIFACTS"

# Playwright adds --headless and a fresh temporary --user-data-dir itself (a new profile per
# launch). The rest keep Chromium from phoning home: on a machine with a closed network it
# otherwise hangs on refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

# Never let Playwright fetch a browser of its own, should anything ask it to.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

_LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


# --------------------------------------------------------------------------- availability


def chromium_path() -> Path | None:
    """The Chromium executable to drive: ``$LSTMTUNE_CHROMIUM``, /usr/bin/chromium, or None."""
    env = os.environ.get(CHROMIUM_ENV)
    if env:
        p = Path(env)
        return p if p.is_file() and os.access(p, os.X_OK) else None
    if DEFAULT_CHROMIUM.is_file() and os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def browser_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "the 'playwright' Python package is not installed "
            "(pip install -e '.[dev]', or `make test`, installs it)"
        )
    if chromium_path() is None:
        where = os.environ.get(CHROMIUM_ENV) or str(DEFAULT_CHROMIUM)
        return (
            f"Chromium not found at {where}; install Debian's chromium with "
            "`.ci/install-browser` (apt-get install chromium)"
        )
    return None


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def browser_or_skip() -> Path:
    """The Chromium path; otherwise skip the test, or fail it when ``LSTMTUNE_REQUIRE_BROWSER``
    is set (as ``.ci/run`` does, so CI never silently skips the browser tests)."""
    reason = browser_missing_reason()
    if reason is None:
        path = chromium_path()
        assert path is not None
        return path
    if _required():
        pytest.fail(f"{REQUIRE_ENV} is set but the browser cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser test: {reason}")


def artifacts_dir(*parts: str) -> Path:
    """Where screenshots go: ``$LSTMTUNE_ARTIFACTS`` or ``<repo>/test-artifacts`` (gitignored),
    plus optional sub-folders; created."""
    base = Path(os.environ.get(ARTIFACTS_ENV) or REPO_ROOT / "test-artifacts")
    d = base.joinpath(*parts)
    d.mkdir(parents=True, exist_ok=True)
    return d


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ImageInfo:
    src: str  # data: URLs shortened to their first 60 characters
    alt: str
    complete: bool
    natural_width: int
    natural_height: int

    @property
    def decoded(self) -> bool:
        """Loaded and decoded: a broken or undecodable image has naturalWidth 0."""
        return self.complete and self.natural_width > 0


@dataclass
class PageReport:
    url: str
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)  # (type, text), all levels
    page_errors: list[str] = field(default_factory=list)  # uncaught exceptions
    requests: list[str] = field(default_factory=list)  # every request URL the page made
    external_requests: list[str] = field(default_factory=list)  # not file:/data: (blocked)
    failed_requests: list[tuple[str, str]] = field(default_factory=list)  # (url, error)
    section_ids: list[str] = field(default_factory=list)  # <section id=...>, document order
    h2_texts: list[str] = field(default_factory=list)
    images: list[ImageInfo] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def broken_images(self) -> list[ImageInfo]:
        return [im for im in self.images if not im.decoded]

    def problems(self, *, warnings: bool = False) -> list[str]:
        """Human-readable list of everything wrong; empty for a clean page."""
        out = [f"console error: {m}" for m in self.console_errors]
        if warnings:
            out += [f"console warning: {m}" for m in self.console_warnings]
        out += [f"page error: {m}" for m in self.page_errors]
        out += [f"network request (reports must be self-contained): {u}"
                for u in self.external_requests]
        out += [f"failed request: {u} ({e})" for u, e in self.failed_requests
                if u not in self.external_requests]
        out += [f"image not decoded (naturalWidth={im.natural_width}, "
                f"complete={im.complete}): {im.src}" for im in self.broken_images]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems()

    def assert_clean(self, *, warnings: bool = False) -> None:
        probs = self.problems(warnings=warnings)
        if probs:
            shot = f"\nscreenshot: {self.screenshot}" if self.screenshot else ""
            raise AssertionError(
                f"{self.url} has {len(probs)} problem(s):\n  " + "\n  ".join(probs) + shot
            )


# --------------------------------------------------------------------------- driver

_PAGE_JS = """() => ({
  title: document.title,
  sectionIds: [...document.querySelectorAll('section[id]')].map(s => s.id),
  h2: [...document.querySelectorAll('h2')].map(h => h.textContent.trim()),
  images: [...document.images].map(i => ({
    src: i.currentSrc || i.getAttribute('src') || '',
    alt: i.getAttribute('alt') || '',
    complete: i.complete,
    naturalWidth: i.naturalWidth,
    naturalHeight: i.naturalHeight,
  })),
})"""


def _short(url: str, n: int = 60) -> str:
    return url if len(url) <= n or not url.startswith("data:") else url[:n] + "..."


class Browser:
    """One headless Chromium (launched lazily, reused); each render gets a fresh context."""

    def __init__(self, executable: Path | None = None, *, timeout_ms: float = 30_000) -> None:
        self.executable = executable
        self.timeout_ms = timeout_ms
        self._pw: Any = None
        self._browser: Any = None

    def start(self) -> Browser:
        if self._browser is not None:
            return self
        exe = self.executable or chromium_path()
        if exe is None:
            raise RuntimeError(browser_missing_reason() or "Chromium not found")
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=str(exe), headless=True, args=CHROMIUM_ARGS,
                timeout=self.timeout_ms,
            )
        except BaseException:
            self._pw.stop()
            self._pw = None
            raise
        return self

    def close(self) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._browser = None
            if self._pw is not None:
                self._pw.stop()
                self._pw = None

    def __enter__(self) -> Browser:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def version(self) -> str:
        return self.start()._browser.version

    def render(
        self,
        html: str | os.PathLike[str],
        screenshot: str | os.PathLike[str] | None = None,
        *,
        viewport: tuple[int, int] = (1280, 800),
        settle_ms: int = 100,
    ) -> PageReport:
        """Open ``html`` (a file on disk) via its file:// URL, wait for ``load`` (all images
        decoded or failed) plus ``settle_ms`` for late errors, and report. A full-page PNG
        screenshot is written to ``screenshot`` when given (parents created)."""
        path = Path(html).resolve()
        if not path.is_file():
            raise FileNotFoundError(path)
        url = path.as_uri()
        self.start()
        rep = PageReport(url=url)

        ctx = self._browser.new_context(
            viewport={"width": viewport[0], "height": viewport[1]},
            service_workers="block",
        )
        try:
            ctx.set_default_timeout(self.timeout_ms)

            def block_external(route: Any) -> None:
                req_url = route.request.url
                if req_url.startswith(_LOCAL_SCHEMES):
                    route.continue_()
                else:  # recorded by the "request" listener; never sent
                    route.abort("blockedbyclient")

            ctx.route("**/*", block_external)
            page = ctx.new_page()

            def on_console(msg: Any) -> None:
                text = msg.text
                rep.console.append((msg.type, text))
                if msg.type == "error":
                    rep.console_errors.append(text)
                elif msg.type == "warning":
                    rep.console_warnings.append(text)

            def on_request(req: Any) -> None:
                rep.requests.append(_short(req.url))
                if not req.url.startswith(_LOCAL_SCHEMES):
                    rep.external_requests.append(req.url)

            def on_failed(req: Any) -> None:
                rep.failed_requests.append((_short(req.url), req.failure or "?"))

            def on_websocket(ws: Any) -> None:
                rep.requests.append(ws.url)
                rep.external_requests.append(ws.url)

            page.on("console", on_console)
            page.on("pageerror", lambda err: rep.page_errors.append(str(err)))
            page.on("request", on_request)
            page.on("requestfailed", on_failed)
            page.on("websocket", on_websocket)

            page.goto(url, wait_until="load")
            page.evaluate("document.fonts.ready.then(() => true)")
            if settle_ms:
                page.wait_for_timeout(settle_ms)

            info = page.evaluate(_PAGE_JS)
            rep.title = info["title"]
            rep.section_ids = list(info["sectionIds"])
            rep.h2_texts = list(info["h2"])
            rep.images = [
                ImageInfo(
                    src=_short(im["src"]), alt=im["alt"], complete=bool(im["complete"]),
                    natural_width=int(im["naturalWidth"]),
                    natural_height=int(im["naturalHeight"]),
                )
                for im in info["images"]
            ]
            if screenshot is not None:
                shot = Path(screenshot)
                shot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shot), full_page=True, type="png")
                rep.screenshot = shot
        finally:
            ctx.close()
        return rep


_shared: Browser | None = None


def shared_browser() -> Browser:
    """The process-wide Browser (started on first use; closed at session end / exit)."""
    global _shared
    if _shared is None:
        _shared = Browser()
        atexit.register(close_shared_browser)
    return _shared.start()


def close_shared_browser() -> None:
    global _shared
    if _shared is not None:
        b, _shared = _shared, None
        b.close()


def render(
    html: str | os.PathLike[str],
    screenshot: str | os.PathLike[str] | None = None,
    **kwargs: Any,
) -> PageReport:
    """Render one HTML file in the shared headless Chromium; see ``Browser.render``."""
    return shared_browser().render(html, screenshot, **kwargs)


@pytest.fixture(scope="session", name="browser")
def browser_fixture() -> Any:
    """Fixture ``browser``: the shared Browser; skips (or fails under LSTMTUNE_REQUIRE_BROWSER)
    without Chromium. Import it into a test module to use it there:
    ``from tests._browser import browser_fixture  # noqa: F401``."""
    browser_or_skip()
    yield shared_browser()
    close_shared_browser()

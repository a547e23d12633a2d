"""Helpers shared by the map tests: read what a geo-rank map embeds."""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SITES = re.compile(r"var sites = (\[.*?\]);\n", re.S)
#: a tag that loads a resource from the network (an <a href> link loads nothing by itself)
_URL_ATTR = re.compile(r"""<(?:script|link|img|iframe|source|embed|object)\b[^>]*?"""
                       r"""\b(?:src|href|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def site_rows(page: str) -> list[list]:
    """The site rows of a map: [lat, lon, label, tier, size, z, tooltip, popup]."""
    match = _SITES.search(page)
    assert match, "no site layer in the page"
    return json.loads(match.group(1))


def external_urls(page: str) -> list[str]:
    """Tags (script, link, img, ...) and CSS ``url()`` that would load from the network."""
    hits = [page[m.start():m.start() + 80] for m in _URL_ATTR.finditer(page)]
    hits += re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]*\)", page)
    return hits


# --- the browser: Chromium driven by Playwright (shared with docs/make_screenshot.py) -------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


@dataclass
class PageReport:
    """What a map did in Chromium."""

    js_errors: list[str] = field(default_factory=list)
    has_map: bool = False
    site_markers: int = 0
    layers: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    popups_opened: int = 0
    seconds: float = 0.0
    #: The legend panel's text as the browser lays it out, one line per row.
    legend: list[str] = field(default_factory=list)
    #: Bounding boxes (x, y, width, height) of the legend and the scale bar, if shown.
    boxes: dict[str, Any] = field(default_factory=dict)
    #: Height (px) of each popup opened (``open_popups``) and whether it scrolls.
    popup_heights: list[float] = field(default_factory=list)
    popups_scrolled: int = 0


def open_in_chromium(html: Path, *, screenshot: Path | None = None, no_network: bool = True,
                     size: tuple[int, int] = (1280, 800), open_popups: bool = False
                     ) -> PageReport:
    """Open a map headless; every request that is not ``file:`` or ``data:`` is blocked.

    ``no_network`` also makes every host name unresolvable (``--host-resolver-rules``), so
    even a request that escaped interception could not reach the network. Blocked requests
    (tiles of the default map) are listed in ``blocked``; their console messages are network
    errors, not JavaScript errors, and are left out of ``js_errors``.
    """
    from playwright.sync_api import sync_playwright

    report = PageReport()
    flags = [*CHROMIUM_FLAGS]
    if no_network:
        flags.append("--host-resolver-rules=MAP * ~NOTFOUND")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="geo-rank-chromium-") as profile, \
            sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=flags, headless=True,
            viewport={"width": size[0], "height": size[1]})
        try:
            def route(r: Any) -> None:
                url = r.request.url
                if url.startswith(("file:", "data:", "blob:")):
                    r.continue_()
                else:
                    report.blocked.append(url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("pageerror", lambda exc: report.js_errors.append(str(exc)))

            def dialog(d: Any) -> None:  # an alert() from injected markup would land here
                report.dialogs.append(d.message)
                d.dismiss()

            page.on("dialog", dialog)
            page.on("console", lambda msg: report.js_errors.append(msg.text)
                    if msg.type == "error" and "Failed to load resource" not in msg.text
                    else None)
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=120_000)
            page.wait_for_selector(".leaflet-container", timeout=30_000)
            page.wait_for_timeout(800)
            report.has_map = page.locator(".leaflet-container").count() == 1
            report.site_markers = page.locator(".geo-rank-site").count()
            report.layers = [t.strip() for t in page.locator(
                ".leaflet-control-layers label").all_inner_texts() if t.strip()]
            report.legend = [t.strip() for t in page.locator(".geo-rank-legend > div")
                             .all_inner_texts() if t.strip()]
            for name, sel in (("legend", ".geo-rank-legend"),
                              ("scale", ".leaflet-control-scale")):
                if page.locator(sel).count():
                    report.boxes[name] = page.locator(sel).first.bounding_box()
            if open_popups:  # popup HTML is inserted only when a popup opens: open each
                for marker in page.locator(".geo-rank-site").all():
                    marker.click(force=True)
                    page.wait_for_timeout(150)
                    report.popups_opened += page.locator(".leaflet-popup-content").count()
                    wrapper = page.locator(".leaflet-popup-content-wrapper")
                    box = wrapper.first.bounding_box() if wrapper.count() else None
                    if box is not None:  # None: no popup visible at that moment (closing)
                        report.popup_heights.append(box["height"])
                        report.popups_scrolled += page.locator(
                            ".leaflet-popup-scrolled").count()
                page.wait_for_timeout(300)
            report.seconds = time.monotonic() - start
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot))
        finally:
            context.close()
    return report

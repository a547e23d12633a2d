"""Inline the vendored Leaflet JavaScript and CSS into a folium map (no CDN at all).

folium elements declare their assets as ``(name, CDN url)`` pairs (``default_js`` and
``default_css``). :func:`inline` walks the map, maps each name to a file vendored under
``geo/web/_assets/`` (pinned version and SHA-256, see ``geo/web/_assets/README.md``), clears the
CDN pairs and puts the file contents in ``<script>`` and ``<style>`` tags in the page head.
Images that a stylesheet refers to by a relative ``url(...)`` become ``data:`` URIs.

Both the default and the ``--offline`` map use this: the only network requests a map
makes are for its base tiles (none when offline). folium's jQuery, Bootstrap and
Font Awesome are dropped: geo-rank's maps use no folium element that needs them (popups are
bound with Leaflet's own ``bindPopup``), which :func:`inline` checks.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from typing import Any

from geo.errors import DataSourceError, DependencyError
from geo.web._assets import PACKAGES

#: folium asset name -> (package, file inside the npm tarball)
ASSETS = {
    "leaflet": ("leaflet", "dist/leaflet.js"),
    "leaflet_css": ("leaflet", "dist/leaflet.css"),
    "markerclusterjs": ("leaflet.markercluster", "dist/leaflet.markercluster.js"),
    "markerclustercss": ("leaflet.markercluster", "dist/MarkerCluster.css"),
    "markerclusterdefaultcss": ("leaflet.markercluster", "dist/MarkerCluster.Default.css"),
    "Control.Fullscreen.js": ("leaflet.fullscreen", "Control.FullScreen.js"),
    "Control.FullScreen.css": ("leaflet.fullscreen", "Control.FullScreen.css"),
}
#: folium's defaults that geo-rank's maps do not need (jQuery only serves folium.Popup).
DROPPED = frozenset({
    "jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
})
_MIME = {".png": "image/png", ".svg": "image/svg+xml"}
_CSS_URL = re.compile(r"""url\((['"]?)([^)'"#:]+)\1\)""")


def raw_element(text: str) -> Any:
    """A branca element that renders ``text`` verbatim.

    folium wraps the output of every macro in a new Jinja template, so large or foreign text
    (minified JavaScript, GeoJSON) would be parsed as a template a second time; this
    element skips that.
    """
    from branca.element import Element

    class _Raw(Element):
        def render(self, **kwargs: Any) -> str:
            return text

    element = _Raw()
    element._name = "Raw"
    return element


def walk(root: Any) -> list[Any]:
    """Every element under ``root`` (itself included), parents before children."""
    out, stack = [], [root]
    while stack:
        element = stack.pop()
        out.append(element)
        stack.extend(reversed(list(element._children.values())))
    return out


def inline(fmap: Any) -> None:
    """Replace the CDN links of every element under ``fmap`` by inline vendored copies.

    Raises
    ------
    DependencyError
        An element needs an asset that geo-rank does not vendor (a programming error: add
        the package to ``geo/web/_assets`` or do not use that folium element).
    DataSourceError
        A vendored file is missing or altered (``python -m geo.web._assets.fetch`` restores it).
    """
    from folium import Icon, Popup
    from folium.elements import JSCSSMixin

    js: dict[str, str] = {}
    css: dict[str, str] = {}
    for element in walk(fmap):
        if isinstance(element, Popup | Icon):
            raise DependencyError(f"{type(element).__name__} needs jQuery or Font Awesome, "
                                  "which geo-rank maps do not ship; bind popups with "
                                  "geo.web helpers instead")
        if isinstance(element, JSCSSMixin):
            for name, url in element.default_js:
                js.setdefault(name, url)
            for name, url in element.default_css:
                css.setdefault(name, url)
            element.default_js = []
            element.default_css = []
    header = fmap.get_root().header
    for kind, links in (("js", js), ("css", css)):
        for name, url in links.items():
            if name in DROPPED:
                continue
            if name not in ASSETS:
                raise DependencyError(f"map asset {name!r} ({url}) is not vendored in "
                                      "geo/web/_assets; see geo/web/_assets/README.md")
            text = asset_text(name)
            tag = (f"<script>{text}</script>" if kind == "js" else f"<style>{text}</style>")
            header.add_child(raw_element(tag), name=f"geo-rank-asset-{name}")


@cache
def asset_text(name: str) -> str:
    """The vendored file for a folium asset name, with a licence line, ready to inline."""
    package_name, member = ASSETS[name]
    package = PACKAGES[package_name]
    data = _read_checked(package_name, member)
    text = data.decode("utf-8")
    if member.endswith(".css"):
        text = _CSS_URL.sub(lambda m: _data_uri(package_name, m), text)
        text = text.replace("</style", "<\\/style")
    else:
        text = text.replace("</script", "<\\/script")
    # the source maps are not vendored: no dangling reference to them
    text = re.sub(r"^[ \t]*(//[#@] sourceMappingURL=|/\*# sourceMappingURL=).*$", "", text,
                  flags=re.M)
    banner = (f"/*! {package.name} {package.version} ({package.licence}), "
              f"vendored by geo-rank: geo/web/_assets/{package.name}/ */\n")
    return banner + text


def _read_checked(package_name: str, member: str) -> bytes:
    package = PACKAGES[package_name]
    path = package.path(member)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataSourceError(f"{path}: cannot read the vendored map asset ({exc.strerror}); "
                              "restore it with `python -m geo.web._assets.fetch`") from exc
    if hashlib.sha256(data).hexdigest() != package.files[member]:
        raise DataSourceError(f"{path}: the vendored map asset differs from the pinned "
                              "SHA-256; restore it with `python -m geo.web._assets.fetch`")
    return data


def _data_uri(package_name: str, match: re.Match[str]) -> str:
    target = match.group(2).strip()
    package = PACKAGES[package_name]
    member = next((m for m in package.files if m.endswith("/" + target) or m == target), None)
    if member is None:
        return match.group(0)
    mime = _MIME.get(target[target.rfind("."):], "application/octet-stream")
    data = base64.b64encode(_read_checked(package_name, member)).decode("ascii")
    return f"url(data:{mime};base64,{data})"

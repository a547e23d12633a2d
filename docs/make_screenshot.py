"""Make docs/us_map.png, the README's picture: ``python docs/make_screenshot.py``.

``python docs/make_screenshot.py US docs/us_surface.png h3:6`` makes the picture of the
national surface instead (``--candidates h3:6 --format tif``: the map draws the surface as
hexagons under markers of the best 25 sites; needs the US grid cache warm to be quick).

The same code path as the browser tests: ``geo-rank --region US --offline`` writes the map,
then :func:`tests.map_helpers.open_in_chromium` opens it in headless Chromium with the
network blocked, checks it (no JavaScript error, one marker per exported site) and takes
the screenshot. Needs the ``dev`` extra and Debian's ``chromium``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from click.testing import CliRunner  # noqa: E402

from geo.cli.app import cli  # noqa: E402
from tests.map_helpers import open_in_chromium  # noqa: E402


def main(region: str = "US", out: str | Path = ROOT / "docs" / "us_map.png",
         surface: str | None = None) -> int:
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "map.html"
        extra = ["--candidates", surface, "--format", "tif"] if surface else []
        run = CliRunner().invoke(cli, ["-q", "--region", region, "--offline", "--out", tmp,
                                       "--map", str(html), *extra])
        if run.exit_code != 0:
            print(run.output, file=sys.stderr)
            return 1
        if surface:  # markers: the best --top (25) sites, one per POI, over the hexagons
            sites = 25
        else:
            export = next(Path(tmp).glob("*_sites.geojson"))
            sites = len(json.loads(export.read_text("utf-8"))["features"])
        report = open_in_chromium(html, screenshot=out, size=(1400, 860))
        if report.js_errors or report.site_markers != sites or report.blocked:
            print(f"map check failed: {report}", file=sys.stderr)
            return 1
        print(f"{out}: {html.stat().st_size / 1e6:.1f} MB map, {sites} sites, "
              f"opened in {report.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))

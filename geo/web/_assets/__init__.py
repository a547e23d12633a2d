"""Vendored Leaflet assets for maps that work with no network (see README.md here).

:data:`PACKAGES` pins each npm package (version, tarball SHA-256, licence) and the files
taken from it, each with its own SHA-256. ``python -m geo.web._assets.fetch`` downloads the
tarballs with ``npm pack``, checks both hashes and copies the files next to this module;
:mod:`geo.web.assets` checks the file hashes again before inlining them into a map.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Package:
    """One npm package and the files geo-rank keeps from it."""

    name: str
    version: str
    licence: str
    tarball_sha256: str
    #: path inside the tarball (under ``package/``) -> SHA-256 of the file
    files: dict[str, str]

    @property
    def folder(self) -> Path:
        return HERE / self.name

    def path(self, member: str) -> Path:
        """Where a vendored file lives (its basename inside :attr:`folder`)."""
        return self.folder / Path(member).name


PACKAGES = {
    "leaflet": Package(
        "leaflet", "1.9.4", "BSD-2-Clause",
        "84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77",
        {
            "LICENSE": "53e8dc25862014e4324741ca18fbe3611e11d42ef69f59f86ea8c5389647d4cb",
            "dist/leaflet.js": "db49d009c841f5ca34a888c96511ae936fd9f5533e90d8b2c4d57596f4e5641a",
            "dist/leaflet.css": "a7837102824184820dfa198d1ebcd109ff6d0ff9a2672a074b9a1b4d147d04c6",
            "dist/images/layers.png":
                "1dbbe9d028e292f36fcba8f8b3a28d5e8932754fc2215b9ac69e4cdecf5107c6",
            "dist/images/layers-2x.png":
                "066daca850d8ffbef007af00b06eac0015728dee279c51f3cb6c716df7c42edf",
            "dist/images/marker-icon.png":
                "574c3a5cca85f4114085b6841596d62f00d7c892c7b03f28cbfa301deb1dc437",
        },
    ),
    "leaflet.markercluster": Package(
        "leaflet.markercluster", "1.5.3", "MIT",
        "fc6b0b1d00b6c708ae54e43ee4a11ac345e41660e19f0a570190bb35babb1a1c",
        {
            "MIT-LICENCE.txt": "3133dacd38250bd1f524d8166cc60a016a382522e062fce143691c65bf5e4b3d",
            "dist/leaflet.markercluster.js":
                "1e4e1d22972a3926f48598e0caf14e3fe7049835d428a344fed4f9e3665b3508",
            "dist/MarkerCluster.css":
                "614dea0a98ff3f4ead74f04918f6b1d1b9ba435c25b5fc23b21a394d1e3e4d87",
            "dist/MarkerCluster.Default.css":
                "61258232d98d64dc2a7b1e02130d67421bc5b9bda5994eef70228ff97570c170",
        },
    ),
    "leaflet.fullscreen": Package(
        "leaflet.fullscreen", "3.0.2", "MIT",
        "1067196073eba159d06973ceeede9bc3cb289bd213dc2434d3539d20084c2a04",
        {
            "LICENSE": "75a3989d05a1f8fd6c90129216785073025ada93697721331dd8d6d7301ed3e6",
            "Control.FullScreen.js":
                "3d376de805265860d9b8122a22302cfde388adc5cd29890fdf31d665fc8d02d7",
            "Control.FullScreen.css":
                "a12a13d32a17b1bcdd60125ebd6f03b7f93690c3c35324e1edef98debec9fef2",
            "icon-fullscreen.svg":
                "034807095346f7be3b9d5b2add42ba0677af1a89d2f90a0caa5c75ec2780a2a2",
        },
    ),
}

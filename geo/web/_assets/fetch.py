"""Fetch the vendored Leaflet assets from the npm registry: ``python -m geo.web._assets.fetch``.

Runs ``npm pack <name>@<version>`` for each package in :data:`geo.web._assets.PACKAGES`,
checks the tarball's SHA-256, extracts only the listed files, checks each file's SHA-256
and writes it into ``geo/web/_assets/<name>/``. Nothing is written unless every hash matches.
``--check`` only verifies the files already in place (no network).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from geo.web._assets import PACKAGES, Package


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(package: Package, workdir: Path) -> dict[Path, bytes]:
    """Download one package with ``npm pack``; return its checked files by target path."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch the assets: apt-get install npm")
    spec = f"{package.name}@{package.version}"
    out = subprocess.run([npm, "pack", spec, "--silent"], cwd=workdir, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    tarball = (workdir / out).read_bytes()
    if _sha256(tarball) != package.tarball_sha256:
        raise SystemExit(f"{spec}: tarball SHA-256 {_sha256(tarball)} is not the pinned "
                         f"{package.tarball_sha256}")
    files: dict[Path, bytes] = {}
    with tarfile.open(workdir / out, "r:gz") as tar:
        for member, digest in package.files.items():
            handle = tar.extractfile(f"package/{member}")
            if handle is None:
                raise SystemExit(f"{spec}: {member} is not in the tarball")
            data = handle.read()
            if _sha256(data) != digest:
                raise SystemExit(f"{spec}: {member} SHA-256 {_sha256(data)} is not {digest}")
            files[package.path(member)] = data
    return files


def check() -> list[str]:
    """Problems with the vendored files in place (empty when all are present and intact)."""
    problems = []
    for package in PACKAGES.values():
        for member, digest in package.files.items():
            path = package.path(member)
            if not path.is_file():
                problems.append(f"{path}: missing")
            elif _sha256(path.read_bytes()) != digest:
                problems.append(f"{path}: SHA-256 differs from the pinned {digest}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geo.web._assets.fetch", description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify only; no network")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for line in problems:
            print(line, file=sys.stderr)
        return 1 if problems else 0
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[Path, bytes] = {}
        for package in PACKAGES.values():
            files.update(fetch(package, Path(tmp)))
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"wrote {path} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The EIA-860 annual zip: plants and generators of every US power plant of 1 MW or more.

The zip is streamed to disk from ``www.eia.gov/electricity/data/eia860/xls/`` (older years
from ``.../archive/xls/``), checked to be a zip, and the plant and generator workbooks are
extracted next to it. geo-rank does not parse the workbooks here; the fetch only places them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import zipfile
from pathlib import Path

from layers.errors import DataSourceError, SettingsError
from layers.fetch._common import atomic_open
from layers.fetch.http import HttpClient, Request
from layers.fetch.settings import EIA860_FIRST_YEAR, FetchSettings

log = logging.getLogger(__name__)

#: The first year EIA-860 was published as a yearly zip.
FIRST_YEAR = EIA860_FIRST_YEAR


def zip_name(year: int) -> str:
    """The zip's file name as EIA publishes it, e.g. ``eia8602023.zip``."""
    return f"eia860{year}.zip"


def member_names(year: int) -> tuple[str, str]:
    """The plant and generator workbooks inside the zip (names used since the 2013 data).

    >>> member_names(2023)
    ('2___Plant_Y2023.xlsx', '3_1_Generator_Y2023.xlsx')
    """
    return f"2___Plant_Y{year}.xlsx", f"3_1_Generator_Y{year}.xlsx"


def check_year(year: int) -> int:
    """``year`` if EIA can have published it, else :class:`SettingsError`."""
    last = dt.date.today().year - 1
    if not FIRST_YEAR <= year <= last:
        raise SettingsError(f"EIA-860 year must be between {FIRST_YEAR} and {last}, not {year}")
    return year


def fetch_eia860(year: int, out_dir: Path, client: HttpClient,
                 settings: FetchSettings | None = None) -> list[Path]:
    """Download the EIA-860 zip of ``year`` into ``out_dir`` and extract its two workbooks.

    Returns
    -------
    list of Path
        The zip, the plant workbook and the generator workbook, in that order.
    """
    settings = settings or client.settings
    check_year(year)
    urls = [settings.eia860_url.format(year=year), settings.eia860_archive_url.format(year=year)]
    final = out_dir / zip_name(year)
    partial = out_dir / f".{final.name}.download"
    tried: list[str] = []
    try:
        for url in urls:
            request = Request.get(url)
            got = client.download(request, partial, missing_ok=True)
            if got is None:
                tried.append(f"{url} (not found)")
                continue
            if not zipfile.is_zipfile(partial):
                client.forget(request)  # EIA answers some missing files with an HTML page
                tried.append(f"{url} (not a zip)")
                continue
            log.info("EIA-860 %d from %s", year, url)
            try:
                written = _extract(partial, year, out_dir)
            except DataSourceError:
                client.forget(request)
                raise
            os.replace(partial, final)
            return [final, *written]
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
    raise DataSourceError(
        f"no EIA-860 zip for {year}: {'; '.join(tried)}; check the year on "
        "https://www.eia.gov/electricity/data/eia860/ or the eia860_url setting"
    )


def _extract(archive: Path, year: int, out_dir: Path) -> list[Path]:
    wanted = member_names(year)
    try:
        with zipfile.ZipFile(archive) as zf:
            by_name = {Path(i.filename).name.lower(): i for i in zf.infolist() if not i.is_dir()}
            missing = [w for w in wanted if w.lower() not in by_name]
            if missing:
                raise DataSourceError(
                    f"{zip_name(year)} has no {', '.join(missing)} (it holds "
                    f"{', '.join(sorted(by_name)) or 'nothing'}); years before 2013 name "
                    "their workbooks differently: extract them by hand"
                )
            written = []
            for name in wanted:
                target = out_dir / name  # our own name, never the member's path
                with zf.open(by_name[name.lower()]) as src, atomic_open(target) as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                written.append(target)
            return written
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise DataSourceError(f"{zip_name(year)} is a damaged zip: {exc}; fetch it again "
                              "(the damaged copy was dropped from the cache)") from exc

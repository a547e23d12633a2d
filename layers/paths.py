"""Where the embedded data lives, in a source checkout and in an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from layers.errors import DataSourceError

_HERE = Path(__file__).resolve().parent


@cache
def data_dir() -> Path:
    """Return the folder of the embedded data.

    A wheel carries the data inside the package (``layers/_data``); a source checkout or an
    editable install reads the repository's ``data/`` folder.
    """
    for candidate in (_HERE / "_data", _HERE.parent / "data"):
        if (candidate / "SOURCES.md").is_file():
            return candidate
    raise DataSourceError(
        f"embedded data not found next to {_HERE}: reinstall geo-rank "
        "(`pip install geo-rank`) or rebuild it with `python -m layers.build`"
    )

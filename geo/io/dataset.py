"""A partitioned GeoParquet dataset: a folder of one file per partition, for surfaces too
large for one frame (``--engine dask --format parquet --all-candidates``).

Layout of ``<name>.parquet/`` (a folder; ``geopandas.read_parquet(folder)`` reads it whole,
``dask_geopandas.read_parquet(folder)`` one partition per file)::

    part.00000.parquet ...   the ranked sites of one spatial partition (a compact patch of
                             the map), sorted by their global ``rank`` (1..N over all files);
                             provenance under the file-metadata key ``geo_rank`` as in a
                             single GeoParquet export
    _metadata                the parquet summary file: the schema (with the GeoParquet
                             ``geo`` key and the provenance) and every file's row groups
    _provenance.json         the provenance again, for people and for tools without parquet

Names starting with ``_`` or ``.`` are skipped by pyarrow's dataset discovery. The folder is
written as ``.<name>.tmp-<random>`` next to the target and renamed into place when every part
is written; an existing dataset written by geo-rank is then moved aside and deleted (two
renames: a reader never sees a half-written dataset under the target's name).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geo.errors import DataSourceError
from geo.io.output import PARQUET_KEY, compact_json

#: The summary file and the provenance sidecar inside a dataset folder.
SUMMARY = "_metadata"
PROVENANCE = "_provenance.json"
#: Pass-1 parts (partition-local ranks) live here until the global ranks are known.
WORK = "_work"


def part_name(i: int) -> str:
    """The file name of partition ``i``."""
    return f"part.{i:05d}.parquet"


def temp_dir(target: Path) -> Path:
    """A new, empty work folder next to ``target`` (same file system: rename is atomic)."""
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        (tmp / WORK).mkdir(parents=True)
    except OSError as exc:
        raise DataSourceError(f"cannot write {target}: {exc.strerror or exc}; check the "
                              "folder's permissions and free space") from exc
    return tmp


def draft_path(tmp: Path, i: int) -> Path:
    """Where :func:`write_draft` puts part ``i``."""
    return tmp / WORK / part_name(i)


def write_draft(ranked: gpd.GeoDataFrame, tmp: Path, i: int) -> Path:
    """Pass 1: a partition's ranked sites (partition-local ranks) as a draft part."""
    path = draft_path(tmp, i)
    ranked.to_parquet(path, index=False)
    return path


def draft_schema(path: Path) -> Any:
    """The arrow schema of a draft part (a column that is null throughout is type null)."""
    import pyarrow.parquet as pq

    return pq.read_schema(path)


def common_schema(schemas: list[Any]) -> Any:
    """One schema for every part: null columns take the type other parts give them."""
    import pyarrow as pa

    fields = pa.unify_schemas([s.remove_metadata() for s in schemas])
    return fields.with_metadata(schemas[0].metadata)


def finish_part(tmp: Path, i: int, ranks: np.ndarray, schema: Any,
                provenance: Mapping[str, Any], name: int | None = None) -> Any:
    """Pass 2: give the draft part ``i`` its global ``ranks`` (in its row order), sort it by
    them, the common ``schema`` and the provenance, and write it as part ``name`` (default
    ``i``); returns the written file's parquet metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    draft = draft_path(tmp, i)
    table = pq.read_table(draft)
    at = table.schema.get_field_index("rank")
    table = table.set_column(at, table.schema.field(at),
                             pa.array(np.asarray(ranks, dtype=table.schema.field(at).type
                                                 .to_pandas_dtype())))
    table = table.take(pa.array(np.argsort(np.asarray(ranks), kind="stable")))
    table = table.select(schema.names).cast(schema.remove_metadata())
    meta = {**(schema.metadata or {}),
            PARQUET_KEY: compact_json(dict(provenance)).encode("utf-8")}
    out = tmp / part_name(i if name is None else name)
    pq.write_table(table.replace_schema_metadata(meta), out)
    draft.unlink()
    written = pq.read_metadata(out)
    written.set_file_path(out.name)
    return written


def finish(tmp: Path, target: Path, parts: list[Any], provenance: Mapping[str, Any]) -> Path:
    """Write ``_metadata`` and ``_provenance.json``, then move the folder to ``target``."""
    (tmp / WORK).rmdir()  # empty: every draft was finished
    if parts:
        summary = parts[0]
        for other in parts[1:]:
            summary.append_row_groups(other)
        summary.write_metadata_file(str(tmp / SUMMARY))
    text = json.dumps(dict(provenance), ensure_ascii=False, allow_nan=False, indent=2)
    (tmp / PROVENANCE).write_text(text + "\n", encoding="utf-8", newline="\n")
    swap(tmp, target)
    return target


def swap(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target``, replacing what is there."""
    old = None
    if target.exists() or target.is_symlink():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


def discard(tmp: Path) -> None:
    """Remove a work folder after a failure."""
    shutil.rmtree(tmp, ignore_errors=True)


def read_provenance(folder: Path) -> dict[str, Any] | None:
    """The provenance of a dataset folder (from ``_metadata``), or ``None``."""
    import pyarrow.parquet as pq

    summary = folder / SUMMARY
    if not summary.is_file():
        return None
    meta = pq.read_schema(summary).metadata or {}
    return json.loads(meta[PARQUET_KEY]) if PARQUET_KEY in meta else None

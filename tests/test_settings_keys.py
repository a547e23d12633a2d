"""Settings key the grid cache by declaration: every setting the grid engine reads is tagged.

The grid cache and the shipped results are keyed by the settings tagged ``GRID`` on their
field (:func:`geo.configuration.keyed`). A setting read by ``geo/grid/`` without a tag would let a
run with a changed value read results computed with the old one (``n1_preexisting`` did).
"""

from __future__ import annotations

import ast
from pathlib import Path

from geo.configuration import keyed
from geo.grid import cache
from geo.settings import Settings

GRID_DIR = Path(__file__).resolve().parents[1] / "geo" / "grid"
TAGS = ("grid", "runtime", "machine")


def _settings_reads(path: Path) -> set[str]:
    """Names read as ``settings.<name>``, ``self.settings.<name>`` or ``s.<name>``."""
    fields = set(Settings.model_fields)
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in fields:
            owner = node.value
            label = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if label in ("settings", "s"):
                names.add(node.attr)
    return names


def test_every_setting_the_grid_engine_reads_is_tagged():
    tagged = {name for tag in TAGS for name in keyed(tag)}
    reads = {(path.name, name) for path in sorted(GRID_DIR.glob("*.py"))
             for name in _settings_reads(path)}
    assert ("contingency.py", "n1_preexisting") in reads  # the scan sees what it guards
    untagged = sorted(f"geo/grid/{f}: settings.{n}" for f, n in reads if n not in tagged)
    assert untagged == [], ("tag these fields in geo/settings.py (json_schema_extra=GRID, or "
                            f"RUNTIME/MACHINE when they never change a result): {untagged}")


def test_tags_are_known_and_disjoint():
    seen: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and "keys" in extra:
            assert extra["keys"] in TAGS, name
            assert name not in seen
            seen[name] = extra["keys"]
    assert set(keyed("grid")).isdisjoint(keyed("runtime"))


def test_n1_preexisting_changes_the_grid_cache_key():
    base = cache.settings_token(Settings())
    assert cache.settings_token(Settings(n1_preexisting="binding")) != base
    assert cache.settings_token(Settings(hosting_batch=7)) == base      # speed, not results
    assert cache.settings_token(Settings(land_weight=0.5)) == base      # ranking, not grid

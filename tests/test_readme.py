"""README.md: its sample output is what geo-rank prints today, and every file it names is in
the repository."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_spec = importlib.util.spec_from_file_location("make_readme_sample",
                                               ROOT / "docs" / "make_readme_sample.py")
assert _spec is not None and _spec.loader is not None
sample = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sample)

#: Where the repository's own files live; other paths in the README are outputs of a run
#: (exports/, maps/) or files inside one.
REPO_ROOTS = ("geo/", "layers/", "data/", "docs/", "tests/", "benchmarks/", ".ci/")


def test_the_excerpt_keeps_the_lines_above_the_table_three_rows_and_the_last_line():
    stdout = "US: 3 candidates\ngrid: x\nrank tier\n   1 A\n   2 A\n   3 B\n   4 C\nwrote 4\n"
    assert sample.excerpt(stdout) == "US: 3 candidates\ngrid: x\nrank tier\n   1 A\n   2 A\n" \
                                     "   3 B\n...\nwrote 4"


def test_update_replaces_only_the_block_between_the_markers():
    readme = f"intro\n{sample.BEGIN}\nold\n{sample.END}\nrest\n"
    assert sample.update(readme, "NEW") == "intro\nNEW\nrest\n"
    with pytest.raises(SystemExit, match="no sample block"):
        sample.update("no markers here", "NEW")


@pytest.mark.slow
def test_readme_sample_output_is_a_fresh_run():
    """The block is what `geo-rank --region US --load-mw 300` prints now (about 30 s): run
    `python docs/make_readme_sample.py` after a change to the table or the ranking."""
    readme = README.read_text(encoding="utf-8")
    assert sample.update(readme, sample.block(sample.run())) == readme, (
        "README.md's sample output is stale: run python docs/make_readme_sample.py")


def referenced_paths(text: str) -> set[str]:
    """Repository paths the README names: link targets and `code` spans that start with a
    top-level folder of the repository or name a file at its root (no placeholders)."""
    links = {t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t}
    spans = set(re.findall(r"`([^`\s]+)`", text))
    named = {s for s in spans if s.startswith(REPO_ROOTS)
             or re.fullmatch(r"[A-Za-z_.-]+\.(md|toml|cfg|txt)", s)}
    return {p for p in links | named if "<" not in p and "*" not in p}


def test_readme_names_only_files_in_the_repository():
    names = referenced_paths(README.read_text(encoding="utf-8"))
    assert {"docs/architecture.md", "SECURITY.md", "geo/schemas/sites.csv"} <= names
    missing = sorted(p for p in names if not (ROOT / p).exists())
    assert missing == [], f"README.md names files that are not in the repository: {missing}"

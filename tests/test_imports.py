"""No import cycles in geo/ and layers/, and every module imports first in a fresh interpreter.

The cycle check reads the source (imports at any depth, so an import inside a function that
hides a cycle still counts; ``TYPE_CHECKING`` blocks and package ``__init__`` facades are
left out). The import check starts one interpreter that loads the third-party libraries
once, then forks a child per module that imports that module before any other of ours.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "layers")
#: Modules that run on import (``python -m``) rather than define anything.
SKIP = {"geo.__main__", "layers.build.__main__", "layers.fetch.__main__"}


def _modules(root: Path = ROOT) -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods[".".join(parts)] = path
    return mods


def import_graph(root: Path = ROOT, type_only: bool = False) -> nx.DiGraph:
    """Module -> module it imports, for the first-party modules under ``root``.

    ``type_only`` also counts the imports inside ``if TYPE_CHECKING:`` blocks.
    """
    mods = _modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    for mod, path in mods.items():
        if path.name == "__init__.py":
            continue  # a package re-exporting its modules is a facade, not a cycle
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = {id(node) for block in ast.walk(tree)
                if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
                for node in ast.walk(block)} if not type_only else set()
        package = mod.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            for target in targets:
                found = resolve(target)
                if found and found != mod:
                    graph.add_edge(mod, found)
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    return [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]


def test_no_import_cycles():
    graph = import_graph()
    assert graph.number_of_edges() > 100  # the check sees the real imports
    assert cycles(graph) == []


def test_no_import_cycles_counting_type_only_imports():
    # the grid's data model is a leaf (geo.grid.model): the engine's parts take the type
    # from there, not from geo.grid.network, which imports them
    graph = import_graph(type_only=True)
    assert cycles(graph) == []
    assert not [v for v in graph.successors("geo.grid.model") if v.startswith("geo.grid")]


def test_the_cycle_check_finds_a_function_level_cycle(tmp_path):
    for name, body in {"a": "import geo.b\n",
                       "b": "def f():\n    from geo import a\n    return a\n"}.items():
        (tmp_path / "geo").mkdir(exist_ok=True)
        (tmp_path / "layers").mkdir(exist_ok=True)
        (tmp_path / "geo" / f"{name}.py").write_text(body)
    assert cycles(import_graph(tmp_path)) == [["geo.a", "geo.b"]]


def third_party(root: Path = ROOT) -> list[str]:
    """Modules outside geo/layers and the standard library that ours import at module level."""
    found: set[str] = set()
    for path in _modules(root).values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy = {id(node) for fn in ast.walk(tree)
                if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) for node in ast.walk(fn)}
        for node in ast.walk(tree):
            if id(node) in lazy:
                continue
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     and not node.level else [])
            found.update(n for n in names if n.partition(".")[0] not in PACKAGES
                         and n.partition(".")[0] not in sys.stdlib_module_names)
    return sorted(found)


_CHILD = textwrap.dedent("""
    import importlib, json, os, sys, traceback
    for lib in json.loads(sys.argv[2]):
        try:
            importlib.import_module(lib)  # third-party: loaded once, shared by the children
        except ImportError:
            pass
    failed = {}
    for name in json.loads(sys.argv[1]):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            code = 0
            try:
                importlib.import_module(name)
            except BaseException:
                os.write(write, traceback.format_exc(limit=3).encode())
                code = 1
            os._exit(code)
        os.close(write)
        with os.fdopen(read, "rb") as fh:
            message = fh.read().decode()
        os.waitpid(pid, 0)
        if message:
            failed[name] = message
    print(json.dumps(failed))
""")


def test_every_module_imports_first_in_a_fresh_interpreter():
    names = sorted(set(_modules()) - SKIP)
    assert len(names) > 60
    result = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(names),
                             json.dumps(third_party())], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    failed = json.loads(result.stdout.splitlines()[-1])
    assert failed == {}, "\n".join(f"{k}:\n{v}" for k, v in failed.items())


#: The layers of the code, lowest first: a module imports from its own layer or lower ones.
#: ``grid`` (the power-flow engine) and ``io`` (file formats) stand side by side and do not
#: import each other; the site pipeline uses both; maps and the backtest present its results;
#: the command line sits on top (docs/architecture.md).
LAYERS = (
    ("layers", ("layers",)),
    ("core", ("geo", "geo.errors", "geo.settings", "geo.configuration", "geo.columns",
              "geo.provenance", "geo._arrays", "geo._memory", "geo._compact",
              "geo.tiers")),
    ("grid", ("geo.grid",)),
    ("io", ("geo.io",)),
    ("sites", ("geo.",)),        # every flat pipeline module not named elsewhere
    ("outputs", ("geo.web", "geo.backtest")),
    ("cli", ("geo.cli", "geo.__main__")),
)
#: Layers that share a rank: neither may import the other.
RANK = {"layers": 0, "core": 1, "grid": 2, "io": 2, "sites": 3, "outputs": 4, "cli": 5}


def layer_of(module: str) -> str:
    """The layer of a module: the most specific prefix in :data:`LAYERS` wins."""
    best, size = "", -1
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            hit = (module == prefix or module.startswith(prefix + ".")
                   or (prefix.endswith(".") and module.startswith(prefix)))
            if hit and len(prefix) > size:
                best, size = name, len(prefix)
    return best


def upward_imports(graph: nx.DiGraph) -> list[str]:
    return sorted(f"{u} ({layer_of(u)}) imports {v} ({layer_of(v)})" for u, v in graph.edges
                  if layer_of(u) != layer_of(v) and RANK[layer_of(v)] >= RANK[layer_of(u)])


def test_imports_follow_the_layers():
    graph = import_graph()
    assert {layer_of(m) for m in graph.nodes} == set(RANK)  # every layer is seen
    assert layer_of("geo.grid.hosting") == "grid" and layer_of("geo.join") == "sites"
    assert upward_imports(graph) == []


def test_the_layer_check_finds_an_upward_import():
    graph = nx.DiGraph([("geo.grid.hosting", "geo.join"), ("geo.io.export", "geo.grid.cache"),
                        ("geo.join", "geo.grid.hosting")])
    assert upward_imports(graph) == [
        "geo.grid.hosting (grid) imports geo.join (sites)",
        "geo.io.export (io) imports geo.grid.cache (grid)"]


_VERSION_CHILD = textwrap.dedent("""
    import json, sys
    from geo.cli.app import main
    try:
        main(["--version"])
    except SystemExit:
        pass
    heavy = ("geopandas", "pandas", "numpy", "shapely", "scipy", "pyarrow", "geo.backtest",
             "geo.pipeline", "geo.grid", "geo.cli.rank", "layers.bundle")
    print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
""")


def test_version_imports_no_subcommand_and_no_heavy_library():
    """``geo-rank --version`` stays fast: the subcommands (and geopandas) load lazily."""
    result = subprocess.run([sys.executable, "-c", _VERSION_CHILD], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "geo-rank, version" in result.stdout
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_ranking_imports_no_download_code():
    """Every command reads the fetch settings; only ``geo-rank fetch`` loads the downloads
    (requests, urllib3 and the source modules: about 0.2 s)."""
    child = ("import json, sys, geo.cli.rank; print(json.dumps(sorted(m for m in ("
             "'requests', 'urllib3', 'layers.fetch.download', 'layers.fetch.overpass') "
             "if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


_WARM_CHILD = textwrap.dedent("""
    import json, sys
    from geo.cli.app import main
    try:
        main(["--region", "US-RI", "--out", sys.argv[1], "--no-map", "-q"])
    except SystemExit as exc:
        assert not exc.code, exc.code
    print(json.dumps(sorted(m for m in ("networkx", "folium", "branca", "matplotlib")
                            if m in sys.modules)))
""")


def test_a_ranking_on_the_shipped_grid_results_imports_no_graph_or_map_library(tmp_path):
    """The warm default run reads the shipped grid metrics: networkx (about 0.1 s, for the
    metrics' N+1 bridges) is not loaded, nor folium without a map (issue 31)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", _WARM_CHILD, str(tmp_path / "out")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []


_POOL_CHILD = textwrap.dedent("""
    from geo.cli.app import main
    try:
        main(["--version"])
    except SystemExit:
        pass
    import pyarrow
    print(pyarrow.default_memory_pool().backend_name)
""")


@pytest.mark.parametrize(("user", "expected"), [(None, "system"), ("mimalloc", "mimalloc")])
def test_the_command_gives_arrow_the_system_allocator_unless_the_user_chose(user, expected):
    """``geo-rank`` runs arrow on glibc's malloc (``app.ARROW_POOL``: mimalloc's returned and
    re-faulted pages were 5 s of system time at US H3 res 7); a user's
    ``ARROW_DEFAULT_MEMORY_POOL`` wins."""
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if user is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = user
    result = subprocess.run([sys.executable, "-c", _POOL_CHILD], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == expected

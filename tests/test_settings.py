"""Settings: typed fields with limits, one error line per call, one meaning per flag name.

The CLI cases run each command up to its settings (they fail before any data is loaded),
so they take well under a second each.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

import layers
import layers.fetch
from geo.cli.app import cli
from geo.cli.config import SETTING_FLAGS
from geo.configuration import from_toml, load_config
from geo.errors import SettingsError
from geo.provenance import MACHINE_SETTINGS
from geo.settings import Settings
from layers.fetch import FetchSettings

GOLDEN = Path(__file__).parent / "data" / "golden"


@pytest.fixture(autouse=True)
def stop_past_the_settings(monkeypatch):
    """Loading data or fetching means the settings were accepted: fail fast, offline."""
    def stop(*args, **kwargs):
        raise AssertionError("the command went past its settings")

    monkeypatch.setattr(layers, "load", stop)
    monkeypatch.setattr(layers.fetch, "fetch", stop)


def _run(geo_rank, tmp_path: Path, toml: str, *args: str):
    cfg = tmp_path / "settings.toml"
    cfg.write_text(toml)
    return geo_rank(*args, "--config", str(cfg))


def _one_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("geo-rank: error: --config ")
    return lines[0]


@pytest.mark.parametrize(("toml", "expected"), [
    # used to end in a raw numpy ValueError (k=0 nearest neighbours)
    ("poi_neighbours = 0\n", "poi_neighbours = 0 (must be an integer >= 1)"),
    # used to become 2 silently
    ("hosting_batch = 2.7\n", "hosting_batch = 2.7 (must be an integer >= 1)"),
    ("discount_rate = -0.2\n", "discount_rate = -0.2 (must be a number in [0, 1])"),
    ("poi_neighbors = 8\n", "unknown setting poi_neighbors = 8 (did you mean poi_neighbours?)"),
    ("use_cache = 1\n", "use_cache = 1 (must be true or false)"),
    ("max_tie_km = nan\n", "max_tie_km = NaN (must be a number > 0)"),
    ("spur_multipliers = [1.5, -1.0, 1.0]\n",
     "spur_multipliers = [1.5, -1.0, 1.0] (must be a non-empty list of numbers >= 0)"),
    ("distribution_factor_cutoff = 5\n",
     "distribution_factor_cutoff = 5 (must be a number in [0, 1])"),
    ("hydro_radius_km = 50\n", "hydro_radius_km = 50 is no longer a setting: the radius is "
                                "fixed at 100 km"),
    ("delay_s = 2\n", "delay_s = 2 is a fetch setting: put it in the [fetch] table"),
    ("[fetch]\ntile_deg = 0\n", "fetch.tile_deg = 0 (must be a number in (0, 360])"),
    ("[fetch]\nmax_tie_km = 3\n", "fetch.max_tie_km = 3 is an engine setting"),
])
@pytest.mark.parametrize("command", [["rank", "--region", "US-RI"], ["grid", "--region", "US-RI"],
                                     ["fetch", "osm", "--region", "US-RI", "--out", "unused"]])
def test_bad_setting_is_one_line_naming_key_value_and_range(tmp_path, command, toml, expected,
                                                            geo_rank):
    line = _one_line(_run(geo_rank, tmp_path, toml, *command))
    assert expected in line, line
    assert not (tmp_path / "unused").exists()


def test_every_problem_of_a_file_in_one_line(tmp_path, geo_rank):
    line = _one_line(_run(geo_rank, tmp_path, "hosting_batch = 2.7\npoi_neighbours = 0\n"
                          "score_weight_time = -1\nmax_tie_kms = 3\n"
                          "[fetch]\npage_size = 0\n", "grid"))
    for part in ("hosting_batch = 2.7", "poi_neighbours = 0", "score_weight_time = -1",
                 "unknown setting max_tie_kms = 3", "fetch.page_size = 0"):
        assert part in line, line


def test_flag_errors_name_the_flag(tmp_path, geo_rank):
    result = geo_rank("grid", "--hosting-min-kv", "-5", "--snap-km", "-1")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "--hosting-min-kv -5.0: hosting_min_kv = -5.0 (must be a number >= 0)" in line
    assert "--snap-km -1.0: snap_tolerance_km = -1.0 (must be a number >= 0)" in line


def test_api_refuses_what_it_used_to_truncate_or_crash_on():
    with pytest.raises(SettingsError, match=r"hosting_batch = 2\.7 \(must be an integer >= 1\)"):
        Settings(hosting_batch=2.7)
    with pytest.raises(SettingsError, match=r"poi_neighbours = 0 "):
        Settings().replace(poi_neighbours=0)
    with pytest.raises(SettingsError, match=r'hosting_batch = "256"'):
        Settings().replace(hosting_batch="256")  # a string is not a number
    with pytest.raises(SettingsError, match=r"participation_method = \"x\" \(must be one of "
                                            r"'headroom', 'nameplate'\)"):
        Settings(participation_method="x")
    with pytest.raises(SettingsError, match="did you mean tile_deg"):
        FetchSettings().replace(tile_degs=2.0)
    assert Settings().replace(hosting_batch=2).hosting_batch == 2
    assert Settings().replace(max_tie_km=20).max_tie_km == 20.0  # an integer is a number
    assert Settings().replace(spur_cutoffs_miles=[1, 2]).spur_cutoffs_miles == (1.0, 2.0)


def test_defaults_and_order_are_those_of_the_recorded_exports():
    """The export provenance dumps the settings; keys, order and defaults must not drift."""
    golden = json.loads((GOLDEN / "us-tx_sites.geojson").read_text())["metadata"]["settings"]
    ours = {k: v for k, v in Settings().as_dict().items() if k not in MACHINE_SETTINGS}
    assert list(ours) == list(golden)
    assert ours == golden


def test_every_number_has_limits_and_every_field_is_typed():
    for cls in (Settings, FetchSettings):
        for name, info in cls.model_fields.items():
            words = cls.allowed(name)
            if info.annotation in (int, float):
                assert any(op in words for op in (">=", "> ", " in [", " in (")), (name, words)
            assert "typing" not in words and "<class" not in words, (name, words)


def test_toml_file_overrides_and_flags_win(tmp_path):
    cfg = tmp_path / "geo-rank.toml"
    cfg.write_text('max_tie_km = 20\nparticipation_fuels = ["gas"]\n[fetch]\ndelay_s = 3\n')
    settings, fetch = load_config(cfg)
    assert (settings.max_tie_km, settings.participation_fuels) == (20.0, ("gas",))
    assert fetch.delay_s == 3.0 and from_toml(cfg) == settings


def _commands() -> dict[str, click.Command]:
    """Every subcommand of ``geo-rank`` (they load lazily: ask the group for them)."""
    ctx = click.Context(cli)
    return {name: cli.get_command(ctx, name) for name in cli.list_commands(ctx)}


def test_one_meaning_per_setting_flag():
    """A flag that sets a setting sets the same one in every command that has it."""
    meaning: dict[str, set[str]] = {}
    for command in _commands().values():
        for param in command.params:
            if isinstance(param, click.Option):
                for flag in param.opts:
                    meaning.setdefault(flag, set()).add(str(param.name))
    for flag, (setting, _) in SETTING_FLAGS.items():
        assert meaning[flag] == {setting}, flag
    assert meaning["--min-kv"] == {"candidate_min_kv"}
    assert meaning["--hosting-min-kv"] == {"hosting_min_kv"}
    assert "--min-kv" not in {o for p in _commands()["grid"].params for o in p.opts}


def test_config_on_every_command_that_has_settings():
    for name in ("rank", "grid", "fetch"):
        assert "config" in {p.name for p in _commands()[name].params}, name

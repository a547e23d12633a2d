"""The pipeline's steps and records (geo.pipeline, geo.records): rank_sites is run() with
one keyword per field, the records are frozen, and prepare refuses before the long work."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from geo import pipeline
from geo.errors import SettingsError
from geo.records import DataRules, Execution, LandInput, Request


def test_run_on_records_is_rank_sites_on_keywords():
    """The known answer of rank_sites' example (US-RI, 100 MW, the OSM grid): the same
    sites, in the same order, from the records."""
    kwargs = {"load_mw": 100.0, "top": 4}
    by_keywords = pipeline.rank_sites("US-RI", **kwargs)
    by_records = pipeline.run(Request(region="US-RI", **kwargs), LandInput(), DataRules(),
                              Execution())
    assert by_records.sites["poi_name"].head(3).tolist() == [
        "Sherman Road Substation", "West Farnum Substation", "Ocean State Substation"]
    assert len(by_records.sites) == 4  # one per POI, top 4 of the region's 7
    pd.testing.assert_frame_equal(by_records.sites, by_keywords.sites)
    strip = {"generated_at"}
    assert ({k: v for k, v in by_records.provenance.items() if k not in strip}
            == {k: v for k, v in by_keywords.provenance.items() if k not in strip})


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Request().top = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Execution().engine = "dask"  # type: ignore[misc]


@pytest.mark.parametrize(("request_", "execution", "message"), [
    (Request(top=0), Execution(), "--top 0: must be a whole number of at least 1"),
    (Request(), Execution(engine="spark"), "--engine 'spark': use one of"),
    (Request(), Execution(dataset="out"), "a partitioned dataset needs --engine dask"),
])
def test_prepare_refuses_bad_inputs_before_loading_any_layer(monkeypatch, request_, execution,
                                                             message):
    def no_load(*args, **kwargs):
        raise AssertionError("layers were loaded before the inputs were checked")

    monkeypatch.setattr(pipeline.layers_pkg, "load", no_load)
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        pipeline.run(request_, execution=execution)

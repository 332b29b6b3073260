"""The catalog commands end to end, on a custom entry folder."""
import json

import pytest

from helpers import run_cli

ENTRY = """
id: nc-tiles
name: NC tiles
aliases: [Noncommercial tiles]
summary: Tiles from breast tumours.
organs: [breast]
stains: [IHC]
tasks: [classification]
modality: patch
year: 2021
license: CC-BY-NC-ND-4.0
access: registration
instructions: Register at https://example.org, accept the terms, then run histodata fetch nc-tiles --from DIR.
citation: |
  @article{doe2021tiles,
    author = {Doe, Jane and Roe, Richard and Poe, Edgar and Moe, Max},
    title = {{NC} tiles: a dataset},
    journal = {Journal of Tiles},
    year = {2021},
    doi = {10.1234/tiles.5}
  }
sources:
  - kind: zenodo
    record: "4242"
    files:
      - {name: tiles.zip, size: 2048, md5: 0123456789abcdef0123456789abcdef}
"""


@pytest.fixture
def env(extra_registry):
    extra_registry(ENTRY)
    return {}


def test_search_json_returns_full_entries(env):
    result = run_cli("search", "breast", "--json")
    assert result.returncode == 0, result.stderr
    entries = {e["id"]: e for e in json.loads(result.stdout)}
    assert entries["nc-tiles"]["sources"][0]["files"][0]["md5"] == "0123456789abcdef0123456789abcdef"
    assert entries["nc-tiles"]["citation"].startswith("@article")


def test_stain_filter_only_returns_that_stain(env):
    entries = json.loads(run_cli("search", "--stain", "ihc", "--json").stdout)
    assert entries and all("ihc" in e["stains"] for e in entries)


def test_search_table(env):
    result = run_cli("search", "noncommercial")
    assert result.returncode == 0 and "nc-tiles" in result.stdout and "1 dataset(s)" in result.stdout


def test_info_card_shows_license_warning_access_and_fetch(env):
    result = run_cli("info", "nc-tiles")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "non-commercial use only" in out and "no derivatives" in out
    assert "Register at https://example.org" in out
    assert "histodata fetch nc-tiles --from DIR" in out
    assert "zenodo: record=4242" in out


def test_info_json_is_the_full_entry(env):
    entry = json.loads(run_cli("info", "nc-tiles", "--json").stdout)
    assert entry["id"] == "nc-tiles" and entry["license"] == "CC-BY-NC-ND-4.0" and entry["stains"] == ["ihc"]


def test_cite_formats(env):
    bibtex = run_cli("cite", "nc-tiles").stdout
    assert bibtex.startswith("@article{doe2021tiles,")
    text = run_cli("cite", "nc-tiles", "--format", "text").stdout.strip()
    assert text == "Jane Doe, Richard Roe, Edgar Poe et al. NC tiles: a dataset. Journal of Tiles. 2021. https://doi.org/10.1234/tiles.5"


def test_unknown_id_is_one_line_with_suggestion(env):
    result = run_cli("info", "nc-tile")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().startswith("error: No dataset with id 'nc-tile'. Did you mean: nc-tiles")
    assert len(result.stderr.strip().splitlines()) == 1


def test_version_and_help():
    from histodata import __version__

    assert run_cli("--version").stdout.strip() == f"histodata {__version__} (pip: histodata-pathology)"
    assert "search" in run_cli("--help").stdout


def test_python_api(env):
    import histodata

    frame = histodata.search("noncommercial tiles", stain="ihc")
    assert list(frame["id"]) == ["nc-tiles"]
    assert frame.loc[0, "size_bytes"] == 2048 and frame.loc[0, "organs"] == ["breast"]
    ihc = histodata.search(stain="ihc")
    assert "nc-tiles" in set(ihc["id"]) and all("ihc" in stains for stains in ihc["stains"])
    assert histodata.info("nc-tiles").license == "CC-BY-NC-ND-4.0"
    assert histodata.search("zzzz-nothing").empty


def test_hints_name_the_distribution_pip_knows():
    """`histodata` on PyPI is another project: every install hint names histodata-pathology."""
    from histodata.errors import StandardizeError
    from histodata.standardize.optional import require

    with pytest.raises(StandardizeError) as err:
        require("no_such_module_for_histodata_tests", "excel")
    assert 'pip install "histodata-pathology[excel]"' in err.value.hint

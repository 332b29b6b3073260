"""The catalog commands as a person types them: unquoted words, ids in any case or by alias, a
task hierarchy, a table that fits the terminal, and how each entry is fetched."""
from __future__ import annotations

import json

import pytest
from helpers import run_cli
from rich.console import Console

import histodata
from histodata.cli.catalog import COMPACT_COLUMNS, results_table
from histodata.errors import UnknownDatasetError
from histodata.registry.loader import load_registry


def ids(result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [e["id"] for e in json.loads(result.stdout)]


def test_search_words_need_no_quotes():
    assert ids(run_cli("search", "breast", "mitosis", "--json")) == ids(run_cli("search", "breast mitosis", "--json"))


def test_a_task_finds_its_narrower_tasks():
    found = set(ids(run_cli("search", "--task", "segmentation", "--json")))
    instance = {e["id"] for e in load_registry().dicts() if "instance-segmentation" in e["tasks"]}
    assert instance and instance <= found
    assert "pannuke" in found and "lizard" in found


@pytest.mark.parametrize(("typed", "expected"), [("CAMELYON16", "camelyon16"), ("PCam", "patchcamelyon"),
                                                 ("pcam", "patchcamelyon")])
def test_ids_are_accepted_in_any_case_and_by_alias(typed, expected):
    result = run_cli("info", typed, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == expected
    assert run_cli("cite", typed).returncode == 0
    assert histodata.info(typed).id == expected


def test_load_of_an_unknown_id_says_so():
    with pytest.raises(UnknownDatasetError, match="No dataset with id 'nosuchset'"):
        histodata.load("nosuchset")


@pytest.mark.parametrize("width", [80, 100, 160])
def test_the_search_table_fits_the_terminal_and_never_cuts_an_id(width):
    entries = load_registry().dicts()
    console = Console(width=width, record=True)
    with console.capture() as captured:
        console.print(results_table(entries, COMPACT_COLUMNS, width))
    lines = captured.get().splitlines()
    assert len(lines) == len(entries) + 3                          # title, header, rule, one line per entry
    assert max(len(line.rstrip()) for line in lines) <= width
    shown = {line.split()[0] for line in lines[3:]}
    assert shown == {e["id"] for e in entries}


def test_search_shows_how_each_entry_is_fetched(extra_registry):
    from emulators.entries import entry_yaml

    # Self-contained entries: built-in ones gain automatic sources as the registry is researched.
    extra_registry(entry_yaml("zz-fetched-by-hand", {"kind": "manual", "files": [{"name": "a.svs"}]},
                              instructions="Download a.svs from the owners' page."))
    extra_registry(entry_yaml("zz-fetched-over-http", {"kind": "http", "files": [
        {"name": "a.zip", "url": "https://data.example.org/a.zip"}]}, {"kind": "manual"},
        instructions="Download a.zip by hand if the link fails."))
    table = run_cli("search", "zz-fetched", "--json")
    assert {"zz-fetched-by-hand", "zz-fetched-over-http"} <= set(ids(table))
    table = run_cli("search", "zz-fetched-by-hand")
    assert table.returncode == 0 and "by hand (--from)" in table.stdout
    frame = histodata.search("zz-fetched").set_index("id")
    assert frame.loc["zz-fetched-by-hand", "fetch"] == "by hand (--from)" and "entry" not in frame.columns
    assert frame.loc["zz-fetched-over-http", "fetch"] == "automatic (http)"
    assert histodata.search("herohe", with_entries=True).loc[0, "entry"]["id"] == "herohe"


def test_a_card_of_an_open_entry_without_an_automatic_source_says_from(extra_registry):
    from emulators.entries import entry_yaml

    extra_registry(entry_yaml("open-by-hand", {"kind": "manual", "files": [{"name": "a.svs"}]},
                              instructions="Download a.svs from the owners' page."))
    card = run_cli("info", "open-by-hand")
    assert card.returncode == 0, card.stderr
    assert "histodata fetch open-by-hand --from DIR" in card.stdout
    assert "by hand (fetch --from DIR): a.svs" in card.stdout

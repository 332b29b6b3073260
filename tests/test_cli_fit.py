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


def test_a_local_entry_that_replaces_a_built_in_one_is_marked(extra_registry):
    from emulators.entries import entry_yaml

    extra_registry(entry_yaml("bcss", {"kind": "manual", "files": [{"name": "a.svs"}]},
                              instructions="My own copy."))
    card = run_cli("info", "bcss")
    assert card.returncode == 0, card.stderr
    assert "Local entry" in card.stdout and "replaces the built-in entry" in card.stdout
    table = run_cli("search", "bcss")
    assert "(local) Test dataset bcss" in table.stdout


def test_cite_as_text_reads_like_a_reference():
    text = run_cli("cite", "camelyon", "--format", "text").stdout
    assert "H&E" in text and "\\&" not in text
    assert text.startswith("Geert Litjens, Peter Bandi")
    assert "Supporting data" not in text             # the first record, not a mix of both


def test_errors_under_json_answer_on_stdout():
    result = run_cli("info", "nosuchset", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["type"] == "UnknownDatasetError"


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_workers_must_be_a_positive_number(value):
    result = run_cli("fetch", "bcss", "--workers", value, "--dry-run")
    assert result.returncode == 2 and "--workers" in result.stderr


def test_verbose_works_after_the_command_too(tmp_path):
    result = run_cli("download", "http://127.0.0.1:9/x", "-o", str(tmp_path / "x"), "-v",
                     env={"HISTODATA_BACKOFF": "0"})
    assert result.returncode == 1 and "DEBUG" in result.stderr


def test_a_refused_connection_is_named_and_tried_only_twice(tmp_path):
    result = run_cli("download", "http://127.0.0.1:9/x", "-o", str(tmp_path / "x"), env={"HISTODATA_BACKOFF": "0"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "127.0.0.1 refused the connection" in result.stderr and "gave up after 2 tries" in result.stderr


def test_a_name_that_does_not_resolve_says_so(monkeypatch, tmp_path):
    """The resolver's answer (simulated: tests make no DNS queries) reaches the person."""
    import socket

    from histodata.errors import DownloadError
    from histodata.transfer import download

    def no_such_name(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    with pytest.raises(DownloadError) as err:
        download("http://data.example.invalid/x.bin", tmp_path / "x.bin", quiet=True)
    assert "the host name data.example.invalid could not be resolved (Name or service not known)" in str(err.value)
    assert "gave up after 2 tries" in str(err.value)


def test_many_failures_are_grouped_by_reason():
    from histodata.errors import DownloadError, failure_summary

    failures = [(f"f{i}.svs", DownloadError(f"http://dead.example.org/f{i}.svs: dead.example.org refused the "
                                            "connection")) for i in range(8)]
    text = failure_summary(failures)
    assert text.count("refused the connection") == 1
    assert "f0.svs" in text and "and 3 more" in text

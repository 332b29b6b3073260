"""Every card's size is the size a fetch moves: the included files of the source a fetch uses."""
from __future__ import annotations

import json

import pytest

from histodata.cards import entry_size_text
from histodata.console import human_size
from histodata.registry.kinds import KINDS
from histodata.registry.loader import load_registry
from histodata.sources.resolve import pinned_listing

from helpers import run_cli


def fetched_bytes(entry) -> int | None:
    """The bytes of the registry's own listing of the first automatic source that pins every file it keeps."""
    for source in entry.sources:
        if KINDS[source.kind].automatic:
            listing = pinned_listing(source)
            if listing is not None:
                return sum(r.size for r in listing)
    return None


def test_every_card_size_is_what_the_pinned_listing_fetches():
    checked = 0
    registry = load_registry()
    for entry in map(registry.entry, registry.ids()):
        moved = fetched_bytes(entry)
        if moved is not None and entry.sources and KINDS[entry.sources[0].kind].automatic:
            assert entry.total_bytes == moved, entry.id
            checked += 1
    assert checked >= 3


def test_nct_crc_he_100k_fetches_only_the_archives_it_standardizes(tmp_path):
    entry = load_registry().entry("nct-crc-he-100k")
    assert entry.total_bytes == 11690284003 + 800276929
    assert entry_size_text(load_registry().get_dict("nct-crc-he-100k")) == human_size(12490560932)
    result = run_cli("fetch", "nct-crc-he-100k", "--dry-run", "--json", "--root", str(tmp_path),
                     env={"HISTODATA_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert sorted(f["name"] for f in document["files"]) == ["CRC-VAL-HE-7K.zip", "NCT-CRC-HE-100K.zip"]
    assert document["total_bytes"] == entry.total_bytes


@pytest.mark.parametrize("entry_id", ["nct-crc-he-100k"])
def test_an_excluded_file_is_not_in_the_card_source_line(entry_id, capsys):
    from rich.console import Console

    from histodata.cards import print_card

    print_card(load_registry().get_dict(entry_id), Console(width=200, force_terminal=False))
    out = capsys.readouterr().out
    assert "2 file(s), 12.5 GB" in out

import json

import pytest

from helpers import run_cli
from histodata.errors import HistodataError
from histodata.registry.search import search_entries

ENTRIES = [
    {"id": "lymph-wsi", "name": "Lymph WSIs", "organs": ["lymph-node", "breast"], "stains": ["h&e"],
     "tasks": ["segmentation"], "modality": "wsi", "access": "open", "summary": "Sentinel nodes."},
    {"id": "her2-tiles", "name": "HER2 tiles", "organs": ["breast"], "stains": ["ihc"],
     "tasks": ["classification"], "modality": "patch", "access": "registration", "aliases": ["HER2 scoring"]},
    {"id": "colon-tiles", "name": "Colon tiles", "organs": ["colon"], "stains": ["h&e"],
     "tasks": ["classification"], "modality": "patch", "access": "open", "summary": "The colon."},
]


def ids(results):
    return [e["id"] for e in results]


def test_text_matches_names_organs_and_synonyms():
    assert ids(search_entries(ENTRIES, "breast")) == ["her2-tiles", "lymph-wsi"]
    assert ids(search_entries(ENTRIES, "CRC")) == ["colon-tiles"]
    assert ids(search_entries(ENTRIES, "scoring")) == ["her2-tiles"]


def test_short_words_match_word_starts_only():
    # "olon" appears inside "colon" but starts no word anywhere
    assert ids(search_entries(ENTRIES, "olon")) == []
    assert ids(search_entries(ENTRIES, "sentinel")) == ["lymph-wsi"]


def test_every_word_must_match():
    assert ids(search_entries(ENTRIES, "breast segmentation")) == ["lymph-wsi"]


@pytest.mark.parametrize("filters,expected", [
    ({"stain": "IHC"}, ["her2-tiles"]),
    ({"stain": "HE"}, ["colon-tiles", "lymph-wsi"]),
    ({"access": "open", "modality": "patch"}, ["colon-tiles"]),
    ({"organ": "Lymph node"}, ["lymph-wsi"]),
])
def test_filters(filters, expected):
    assert ids(search_entries(ENTRIES, None, **filters)) == expected


def test_unknown_filter_value_is_a_clear_error():
    with pytest.raises(HistodataError, match="Unknown stain 'purple'"):
        search_entries(ENTRIES, None, stain="purple")


def test_cli_empty_search_is_an_empty_list():
    result = run_cli("search", "zzzz-no-such-dataset", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []
    table = run_cli("search", "zzzz-no-such-dataset", "--organ", "colon")
    assert table.returncode == 0 and "No dataset matches 'zzzz-no-such-dataset' --organ colon" in table.stdout
    assert "without --organ colon" in table.stdout        # what to try next

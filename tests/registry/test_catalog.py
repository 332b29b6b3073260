"""The built-in catalog: every row of the community list has exactly one entry, and it all validates."""
import re
from collections import Counter
from pathlib import Path

import pytest

from helpers import run_cli
from histodata.registry import loader
from histodata.registry.models import license_restrictions

ROWS = [line for line in (Path(__file__).parents[1] / "data" / "catalog_rows.txt").read_text().splitlines()
        if line and not line.startswith("#")]
SEED_IDS = ["camelyon16", "camelyon17", "bcss", "her2-ihc-40x", "her2-ihc-40x-wsi", "herohe"]


@pytest.fixture(scope="module")
def entries():
    found, problems = loader.validate_folder(loader.builtin_dir())
    assert problems == [], "\n".join(map(str, problems))
    return found


def test_catalog_list_has_105_rows():
    assert len(ROWS) == 105 and len(set(ROWS)) == 105


def test_every_catalog_row_has_exactly_one_entry(entries):
    counts = Counter(e["catalog_row"] for e in entries if e.get("catalog_row"))
    missing = [row for row in ROWS if counts[row] == 0]
    doubled = [row for row in ROWS if counts[row] > 1]
    unknown = sorted(set(counts) - set(ROWS))
    assert (missing, doubled, unknown) == ([], [], [])


def test_seed_datasets_are_present(entries):
    ids = {e["id"] for e in entries}
    assert set(SEED_IDS) <= ids


def test_gated_entries_explain_and_unavailable_says_why(entries):
    for entry in entries:
        if entry["access"] != "open":
            assert len(entry.get("instructions", "")) > 30, entry["id"]
    herohe = next(e for e in entries if e["id"] == "herohe")
    assert herohe["access"] == "unavailable"


def test_checksummed_files_have_names_and_sources_have_kinds(entries):
    for entry in entries:
        for source in entry.get("sources", []):
            for spec in source.get("files", []):
                assert spec["name"], entry["id"]


def test_info_shows_noncommercial_warning_where_it_applies(entries):
    restricted = [e for e in entries if "non-commercial use only" in license_restrictions(e["license"])]
    free = [e for e in entries if e["license"] in ("CC-BY-4.0", "CC0-1.0")]
    assert restricted, "expected at least one non-commercial entry in the catalog"
    for entry in restricted[:3]:
        out = " ".join(run_cli("info", entry["id"]).stdout.split())
        assert "non-commercial use only" in out, entry["id"]
    for entry in free[:2]:
        assert "non-commercial" not in run_cli("info", entry["id"]).stdout


def test_search_breast_finds_camelyon16():
    import json

    result = run_cli("search", "breast", "--json")
    ids = [e["id"] for e in json.loads(result.stdout)]
    assert "camelyon16" in ids
    ihc = json.loads(run_cli("search", "--stain", "ihc", "--json").stdout)
    assert ihc and all("ihc" in e["stains"] for e in ihc)


# Words that describe how an entry was curated rather than what a user can rely on (issue 18):
# a note says a fact and how sure it is ("not confirmed on the record page"), not what somebody read.
WORKING_PROSE = re.compile(
    r"\b(audit|was not read|were not read|not readable|re-read|could not be read|could not be consulted"
    r"|available to us|we could|this session|curators?)\b", re.IGNORECASE)


def _user_facing_texts(entry):
    yield from (("notes", text) for text in entry.get("notes", []))
    if entry.get("instructions"):
        yield "instructions", entry["instructions"]
    for number, source in enumerate(entry.get("sources", [])):
        if source.get("notes"):
            yield f"sources[{number}].notes", source["notes"]
    for item in entry.get("provenance", []):
        yield "provenance.what", str(item.get("what", ""))


def test_notes_speak_to_users_not_about_curation(entries):
    found = [f"{entry['id']} {field}: {match.group(0)!r}"
             for entry in entries
             for field, text in _user_facing_texts(entry)
             for match in [WORKING_PROSE.search(text)] if match]
    assert found == [], "\n".join(found)


def test_working_prose_pattern_catches_the_known_phrases():
    for phrase in ("the figshare page itself was not read", "re-read in the audit", "was not readable here",
                   "the remaining authors were not read", "no owner statement we could consult"):
        assert WORKING_PROSE.search(phrase), phrase
    assert not WORKING_PROSE.search("License CC BY 4.0; not confirmed on the record page.")

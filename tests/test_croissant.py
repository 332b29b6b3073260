"""`histodata croissant ID`: Croissant 1.0 JSON-LD that mlcroissant (the reference implementation)
accepts for every registry entry, and for an entry that knows too little to describe fully."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import mlcroissant as mlc
import pytest
from emulators.entries import entry_yaml
from helpers import run_cli

from histodata.croissant import creators, entry_croissant
from histodata.registry.loader import load_registry

MLCROISSANT = Path(sys.executable).parent / "mlcroissant"


def validate_cli(path: Path) -> subprocess.CompletedProcess:
    """`mlcroissant validate --jsonld FILE`, the reference validator's own command."""
    return subprocess.run([str(MLCROISSANT), "validate", "--jsonld", str(path)], check=False,
                          capture_output=True, text=True, timeout=300)


def test_every_registry_entry_is_valid_croissant():
    """What `mlcroissant validate` runs (mlcroissant.Dataset: errors raise), over the whole registry."""
    logging.getLogger("absl").setLevel(logging.ERROR)
    invalid = {}
    entries = load_registry().dicts()
    assert len(entries) > 50
    for entry in entries:
        document = entry_croissant(entry).jsonld
        try:
            dataset = mlc.Dataset(jsonld=document)
        except mlc.ValidationError as err:
            invalid[entry["id"]] = str(err)
            continue
        assert dataset.metadata.name == entry["name"]
        assert document["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert invalid == {}


@pytest.mark.parametrize("dataset_id", ["bach", "tcga-til-wsi", "camelyon16"])
def test_the_reference_validator_command_accepts_the_cli_output(dataset_id, tmp_path):
    out = tmp_path / f"{dataset_id}.json"
    result = run_cli("croissant", dataset_id, "-o", str(out))
    assert result.returncode == 0, result.stderr
    checked = validate_cli(out)
    assert checked.returncode == 0, checked.stderr[-2000:]
    document = json.loads(out.read_text())
    entry = load_registry().get_dict(dataset_id)
    assert document["name"] == entry["name"] and document["citeAs"] == entry["citation"].strip()
    assert set(entry["organs"]) <= set(document["keywords"])


def test_pinned_files_are_file_objects_and_listed_ones_file_sets():
    document = entry_croissant(load_registry().get_dict("bach")).jsonld
    objects = {d["name"]: d for d in document["distribution"] if d["@type"] == "cr:FileObject"}
    zipped = objects["ICIAR2018_BACH_Challenge.zip"]
    assert zipped["md5"] == "8ae1801334aa943c44627c1eef3631b2"
    assert zipped["contentUrl"] == "https://zenodo.org/records/3632035/files/ICIAR2018_BACH_Challenge.zip"
    sets = [d for d in document["distribution"] if d["@type"] == "cr:FileSet"]
    assert sets and "ICIAR2018_BACH_Challenge_TestDataset.zip" in sets[0]["includes"]   # no checksum pinned
    assert document["license"] == "https://creativecommons.org/licenses/by-nc-nd/4.0/legalcode"
    assert [p["name"] for p in document["creator"]][:2] == ["António Polónia", "Catarina Eloy"]


def test_gated_entry_says_how_access_works():
    gated = next(e for e in load_registry().dicts() if e["access"] == "registration")
    document = entry_croissant(gated).jsonld
    assert document["conditionsOfAccess"].startswith("registration: ")
    assert gated["instructions"].split()[0] in document["conditionsOfAccess"]


def test_an_entry_that_knows_little_gives_a_valid_file_and_a_warning(extra_registry, tmp_path):
    extra_registry(entry_yaml("bare-bones", license="unknown", sources=[]))
    out = tmp_path / "bare.json"
    result = run_cli("croissant", "bare-bones", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr
    for missing in ("a license", "a citation", "any file or download source", "a url"):
        assert missing in result.stderr
    assert validate_cli(out).returncode == 0
    document = json.loads(out.read_text())
    assert "license" not in document and document["distribution"] == []
    printed = run_cli("croissant", "bare-bones")
    assert printed.returncode == 0 and json.loads(printed.stdout)["name"] == "Test dataset bare-bones"


def test_unknown_id_is_a_one_paragraph_error():
    result = run_cli("croissant", "no-such-dataset")
    assert result.returncode not in (0, 70) and "Traceback" not in result.stderr
    assert "no-such-dataset" in result.stderr


def test_authors_from_bibtex():
    assert creators("@article{x, author={Ara{\\'u}jo, Teresa and Kwok, Scotty and others}, year=2019}") == [
        {"@type": "sc:Person", "name": "Teresa Araujo"}, {"@type": "sc:Person", "name": "Scotty Kwok"}]
    assert creators('@misc{y, author = "Jane Doe", title = {T}}') == [{"@type": "sc:Person", "name": "Jane Doe"}]
    assert creators(None) == [] and creators("@misc{z, title={no authors}}") == []


def test_catalog_search_imports_neither_mlcroissant_nor_pandas():
    code = ("import sys; from histodata.cli import main; main(['search', 'breast', '--json']); "
            "sys.stderr.write(repr(sorted(m for m in ('mlcroissant', 'pandas', 'datasets') if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("[]")


def test_docs_page_embeds_json_ld_that_cannot_close_its_script_early():
    from histodata.docsgen import dataset_page

    entry = {**load_registry().get_dict("bach"), "summary": "tricky </script><!-- text"}
    page = dataset_page(entry)
    script = page.split('<script type="application/ld+json">\n', 1)[1].split("\n</script>", 1)[0]
    assert "</" not in script and "<!--" not in script
    assert json.loads(script)["description"] == "tricky </script><!-- text"


@pytest.mark.parametrize(("license_name", "expected"), [
    ("CC-BY-4.0", "https://spdx.org/licenses/CC-BY-4.0.html"),
    ("MHIST Dataset Research Use Agreement", "MHIST Dataset Research Use Agreement"),
    ("custom-noncommercial", "custom-noncommercial")])
def test_license_is_an_spdx_page_only_for_spdx_ids(license_name, expected):
    entry = {"id": "x", "name": "X", "organs": [], "stains": [], "tasks": [], "access": "open",
             "license": license_name}
    assert entry_croissant(entry).jsonld["license"] == expected


def test_a_token_in_a_registry_url_never_reaches_the_file(extra_registry, tmp_path):
    extra_registry(entry_yaml("tokened", {"kind": "http", "files": [
        {"name": "a.zip", "url": "https://data.example.org/a.zip?token=s3cr3tvalue99", "md5": "0" * 32}]}))
    result = run_cli("croissant", "tokened")
    assert result.returncode == 0, result.stderr
    assert "s3cr3tvalue99" not in result.stdout + result.stderr
    assert json.loads(result.stdout)["distribution"][0]["contentUrl"].startswith("https://data.example.org/a.zip")

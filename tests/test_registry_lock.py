"""`histodata registry lock ID [--write]`: the provider's current files (names, sizes, checksums)
pinned into the entry's YAML, against the emulators through the mirror map; only the `files:` list
of the source changes, comments and everything else stay."""
from __future__ import annotations

import hashlib
import json

import pytest
import yaml
from emulators.bisque import SITE as BISQUE_SITE
from emulators.bisque import BisQueEmulator
from emulators.doi import DoiResolver
from emulators.dataverse import DataverseEmulator, DvFile
from emulators.figshare import FigshareEmulator
from emulators.gdc import GDCEmulator
from emulators.girder import API as GIRDER_API
from emulators.girder import GirderEmulator
from emulators.s3 import S3Emulator
from emulators.zenodo import ZenodoEmulator
from helpers import md5, run_cli

from histodata.http import new_session
from histodata.pinning import lock_entry
from histodata.registry import loader
from histodata.registry.edit import replace_source_files
from histodata.registry.models import Source
from histodata.sources import kind_module

FILES = {"tiles.zip": b"zip bytes " * 100, "labels.csv": b"id,label\n1,tumor\n", "other.zip": b"other" * 9}

ENTRY = """\
# A hand-written entry: this comment, the key order and the notes must survive a lock.
id: locked-tiles
name: Locked tiles   # trailing comment
organs: [breast]
stains: [h&e]
tasks: [classification]
modality: patch
license: CC-BY-4.0
access: open
sources:
  - kind: zenodo
    record: "4242"
    include: [tiles.zip, labels.csv, gone.zip]   # other.zip belongs to another dataset
    files:
      - {name: tiles.zip, size: 5, md5: ffffffffffffffffffffffffffffffff, sha256: %s}
      - {name: gone.zip, size: 3}
      - {name: other.zip, notes: "kept as written: outside include"}
  - kind: http
    files:
      - {name: tiles.zip, url: "https://mirror.example.org/tiles.zip"}
notes:
  - "a note"
"""
SHA = "ab" * 32


@pytest.fixture
def zen(emulate, extra_registry):
    emulator = emulate(ZenodoEmulator())
    emulator.add("4242", FILES)
    path = extra_registry(ENTRY % SHA)
    emulator.entry_path = path
    return emulator


def test_lock_shows_a_diff_and_writes_nothing_without_write(zen):
    before = zen.entry_path.read_text()
    result = run_cli("registry", "lock", "locked-tiles")
    assert result.returncode == 0, result.stderr
    assert zen.entry_path.read_text() == before
    diff = result.stdout
    assert diff.startswith("--- a/locked-tiles.yaml\n+++ b/locked-tiles.yaml\n")
    assert f"+      - {{name: tiles.zip, size: {len(FILES['tiles.zip'])}, md5: {md5(FILES['tiles.zip'])}}}" in diff
    assert f"+      - {{name: labels.csv, size: {len(FILES['labels.csv'])}" in diff
    assert "-      - {name: gone.zip, size: 3}" in diff
    assert "\n       - {name: other.zip, notes: \"kept" in diff    # outside include: an unchanged line
    assert "zenodo (source 1) 3 file(s): 1 new, 1 changed, 1 no longer listed" in result.stderr
    assert "http (source 2) skipped" in result.stderr and "--write" in result.stderr


def test_lock_write_rewrites_only_the_files_list_and_keeps_comments(zen):
    before = zen.entry_path.read_text()
    result = run_cli("registry", "lock", "locked-tiles", "--write")
    assert result.returncode == 0, result.stderr
    after = zen.entry_path.read_text()
    assert "written" in result.stderr and result.stdout == ""
    for kept in ("# A hand-written entry", "name: Locked tiles   # trailing comment",
                 "include: [tiles.zip, labels.csv, gone.zip]   # other.zip belongs to another dataset",
                 '      - {name: tiles.zip, url: "https://mirror.example.org/tiles.zip"}', '  - "a note"'):
        assert kept in after
    old, new = yaml.safe_load(before), yaml.safe_load(after)
    files = new["sources"][0].pop("files")
    old["sources"][0].pop("files")
    assert new == old                                       # nothing else changed
    assert files == [
        # the size changed, so the registry's sha256 (not published by Zenodo) no longer holds
        {"name": "tiles.zip", "size": len(FILES["tiles.zip"]), "md5": md5(FILES["tiles.zip"])},
        {"name": "other.zip", "notes": "kept as written: outside include"},
        {"name": "labels.csv", "size": len(FILES["labels.csv"]), "md5": md5(FILES["labels.csv"])},
    ]
    assert run_cli("registry", "validate", str(zen.entry_path.parent)).returncode == 0
    again = run_cli("registry", "lock", "locked-tiles", "--json")
    document = json.loads(again.stdout)
    assert document["changed"] is False and document["diff"] == ""
    assert document["sources"][0] == {"source": 1, "kind": "zenodo", "files": 3, "added": [], "removed": [],
                                      "changed": [], "skipped": None}
    # fetch now verifies against the pins the lock wrote
    assert run_cli("fetch", "locked-tiles", "--dry-run").returncode == 0


def test_a_checksum_the_provider_does_not_publish_stays_while_the_file_is_the_same(zen):
    data = FILES["tiles.zip"]
    sha = hashlib.sha256(data).hexdigest()
    text = zen.entry_path.read_text().replace("size: 5, md5: ffffffffffffffffffffffffffffffff, sha256: " + SHA,
                                              f"size: {len(data)}, sha256: {sha}")
    zen.entry_path.write_text(text)
    loader.clear_cache()
    result = lock_entry("locked-tiles", source_number=1)
    files = yaml.safe_load(result.after)["sources"][0]["files"]
    assert files[0] == {"name": "tiles.zip", "size": len(data), "sha256": sha, "md5": md5(data)}
    assert [s.kind for s in result.sources] == ["zenodo"]


def test_errors_are_short_and_name_a_next_step(zen, emulate):
    result = run_cli("registry", "lock", "locked-tiles", "--source", "2")
    assert result.returncode == 1 and "no source whose provider lists its files" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli("registry", "lock", "locked-tiles", "--max-files", "1")
    assert result.returncode == 1 and "lists 2 files" in result.stderr and "--max-files 2" in result.stderr
    emulate(DoiResolver())
    zen.records.pop("4242")
    result = run_cli("registry", "lock", "locked-tiles")
    assert result.returncode == 1 and "record 4242 does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert run_cli("registry", "lock", "no-such-entry").returncode == 1


# ----------------------------------------------------------------------------- every API-backed kind
def zenodo_source(emulate):
    emulate(ZenodoEmulator()).add("77", FILES)
    return {"kind": "zenodo", "record": "77"}


def figshare_source(emulate):
    article = emulate(FigshareEmulator()).add_article({"a/" + k: v for k, v in FILES.items()})
    return {"kind": "figshare", "article": article.id}


def dataverse_source(emulate):
    doi = "10.7910/DVN/LOCK01"
    emulate(DataverseEmulator()).add(doi, *(DvFile(n + 1, name, data, algorithm="SHA-256")
                                            for n, (name, data) in enumerate(FILES.items())))
    return {"kind": "dataverse", "server": "https://dataverse.harvard.edu", "doi": doi}


def s3_source(emulate):
    emulator = emulate(S3Emulator())
    emulator.objects.update({f"set/{k}": v for k, v in FILES.items()})
    return {"kind": "s3", "bucket": emulator.bucket, "region": emulator.region, "prefix": "set/"}


def girder_source(emulate):
    emulator = GirderEmulator()
    top = emulator.folder(emulator.collection("data"), "top")
    for name, data in FILES.items():
        emulator.item(top, name, {name: data})
    emulate(emulator)
    return {"kind": "girder", "api_url": GIRDER_API, "folder": top.id}


def gdc_source(emulate):
    emulator = emulate(GDCEmulator())
    emulator.add("f-1", "TCGA-AA-0001-01Z-00-DX1.A.svs", b"slide one", "TCGA-BRCA", "TCGA-AA-0001")
    emulator.add("f-2", "TCGA-AA-0002-01Z-00-DX1.B.svs", b"slide two!", "TCGA-BRCA", "TCGA-AA-0002")
    return {"kind": "gdc", "projects": ["TCGA-BRCA"]}


def bisque_source(emulate):
    emulate(BisQueEmulator()).add_dataset("00-lockset", "set", {f"00-m{n}": (name, data)
                                                               for n, (name, data) in enumerate(FILES.items())})
    return {"kind": "bisque", "dataset": f"{BISQUE_SITE}/data_service/00-lockset"}


def kind_entry(source: dict, flow: bool = False) -> str:
    """An entry whose one source is `source`, in block style (one field per line) or on one line."""
    fields = [f"{key}: {json.dumps(value)}" for key, value in source.items()]
    written = "{" + ", ".join(fields) + "}" if flow else "\n    ".join(fields)
    return ("id: any-kind\nname: Any kind   # stays\norgans: [breast]\nstains: [h&e]\n"
            "tasks: [classification]\nmodality: patch\nlicense: CC-BY-4.0\naccess: open\n"
            f"sources:\n  - {written}\n")


@pytest.mark.parametrize("make", [zenodo_source, figshare_source, dataverse_source, s3_source, girder_source,
                                  gdc_source, bisque_source], ids=lambda f: f.__name__.removesuffix("_source"))
def test_every_api_kind_pins_what_its_provider_lists(make, emulate, extra_registry):
    source = make(emulate)
    path = extra_registry(kind_entry(source))
    result = lock_entry("any-kind")
    assert result.changed
    result.write()
    listed = kind_module(source["kind"]).list_files(Source(**source), new_session(), None)
    written = yaml.safe_load(path.read_text())["sources"][0]["files"]
    assert {f["name"]: f for f in written} == {
        r.name: {"name": r.name, **({"size": r.size} if r.size is not None else {}), **r.checksums}
        for r in listed}
    assert len(written) >= 2 and all("size" in f for f in written)
    assert "name: Any kind   # stays" in path.read_text()
    loader.clear_cache()
    assert lock_entry("any-kind").changed is False


def test_a_source_written_on_one_line_is_refused_and_nothing_is_written(emulate, extra_registry):
    path = extra_registry(kind_entry(zenodo_source(emulate), flow=True))
    before = path.read_text()
    result = run_cli("registry", "lock", "any-kind", "--write")
    assert result.returncode == 1 and "flow style" in result.stderr and "block style" in result.stderr
    assert path.read_text() == before


# ----------------------------------------------------------------------------- the YAML edit
def test_a_source_without_files_gets_a_files_key_after_its_last_field():
    text = "id: x\nsources:\n  - kind: zenodo\n    record: '1'   # the record\n# tail comment\nnotes: [a]\n"
    new = replace_source_files(text, 0, [{"name": "a b.zip", "size": 1, "md5": "0" * 31 + "1"}])
    assert new.startswith("id: x\nsources:\n  - kind: zenodo\n    record: '1'\n    files:\n"
                          "      - {name: a b.zip, size: 1, md5: '00000000000000000000000000000001'}")
    assert yaml.safe_load(new)["sources"][0]["files"] == [{"name": "a b.zip", "size": 1, "md5": "0" * 31 + "1"}]
    assert "# tail comment\nnotes: [a]\n" in new


def test_a_flow_files_list_becomes_a_block_list_and_odd_names_are_quoted():
    text = "sources:\n- kind: s3\n  files: [{name: a}]\n  bucket: b\n"
    files = [{"name": "x: y.zip", "size": 2}, {"name": "#hash", "md5": "12345678901234567890123456789012"}]
    new = replace_source_files(text, 0, files)
    assert yaml.safe_load(new) == {"sources": [{"kind": "s3", "files": files, "bucket": "b"}]}
    assert new.endswith("  bucket: b\n")

"""Manual ingest (--from): matching, hard links, MIRAX units, missing/unexpected/mismatched files."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import pytest
from helpers import md5, run_cli

from histodata.errors import AccessError
from histodata.layout import dataset_paths
from histodata.registry.models import Entry
from histodata.sources import manual


GOOD, BAD = b"slide-bytes" * 100, b"labels,1\n"


def make_entry(files: list[dict] | None) -> Entry:
    return Entry(id="gated-test", name="Gated", organs=["breast"], stains=["h&e"], tasks=["classification"],
                 modality="wsi", access="registration", instructions="Register at example.org, then download.",
                 sources=[{"kind": "manual", "files": files}] if files is not None else [{"kind": "manual"}])


def test_matching_by_path_and_name_with_extra_missing_and_corrupted(tmp_path):
    incoming = tmp_path / "Downloads"
    (incoming / "nested").mkdir(parents=True)
    (incoming / "images").mkdir()
    (incoming / "images" / "a.svs").write_bytes(GOOD)          # by relative path
    (incoming / "nested" / "labels.csv").write_bytes(BAD)        # by base name, elsewhere
    (incoming / "images" / "b.svs").write_bytes(b"truncated")   # wrong size
    (incoming / "c.svs").write_bytes(GOOD[:-1] + b"X")           # right size, wrong md5
    (incoming / "notes.txt").write_text("mine")                 # not part of the dataset
    (incoming / ".DS_Store").write_bytes(b"\0")                 # ignored
    entry = make_entry([
        {"name": "images/a.svs", "size": len(GOOD), "md5": md5(GOOD)},
        {"name": "labels.csv", "md5": md5(BAD)},
        {"name": "images/b.svs", "size": len(GOOD)},
        {"name": "images/c.svs", "size": len(GOOD), "md5": md5(GOOD)},
        {"name": "images/d.svs", "size": 5},
    ])
    paths = dataset_paths(entry.id)
    report = manual.ingest(entry, incoming, paths, quiet=True)
    assert sorted(a.name for a in report.adopted) == ["images/a.svs", "labels.csv"]
    assert report.missing == ["images/d.svs"]
    assert sorted(m.name for m in report.mismatched) == ["images/b.svs", "images/c.svs"]
    assert "size 9 bytes" in str(next(m for m in report.mismatched if m.name == "images/b.svs"))
    assert report.unexpected == ["notes.txt"]
    assert not report.ok
    a = next(x for x in report.adopted if x.name == "images/a.svs")
    assert a.sha256 == hashlib.sha256(GOOD).hexdigest() and a.verified == {"md5": md5(GOOD)} and a.linked
    raw_a = paths.raw / "images" / "a.svs"
    assert os.path.samefile(raw_a, incoming / "images" / "a.svs")        # hard link, not a copy
    assert not (paths.raw / "images" / "b.svs").exists() and not (paths.raw / "images" / "c.svs").exists()
    summary = report.summary()
    assert "missing 1" in summary and "mismatched 2" in summary and "notes.txt" in summary


def make_mirax(folder: Path, stem: str, with_index: bool = True) -> dict[str, bytes]:
    contents = {f"{stem}.mrxs": b"[GENERAL]\nSLIDE_ID=" + stem.encode()}
    for i in range(3):
        contents[f"{stem}/Data{i:04d}.dat"] = bytes([i]) * 1000
    if with_index:
        contents[f"{stem}/Slidedat.ini"] = b"[GENERAL]\nSLIDE_VERSION=01.02\n"
    for rel, data in contents.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return contents


def test_mirax_slides_ingest_as_units(tmp_path):
    incoming = tmp_path / "HEROHE"
    incoming.mkdir()
    one = make_mirax(incoming, "1")
    make_mirax(incoming, "2", with_index=False)
    (incoming / "3.mrxs").write_bytes(b"[GENERAL]")               # its data folder never arrived
    entry = make_entry([{"name": "train/1.mrxs", "md5": md5(one["1.mrxs"])},
                        {"name": "train/2.mrxs"}, {"name": "train/3.mrxs"}])
    paths = dataset_paths(entry.id)
    report = manual.ingest(entry, incoming, paths, quiet=True)
    adopted = {a.name for a in report.adopted}
    assert {"train/1.mrxs", "train/1/Data0000.dat", "train/1/Data0002.dat", "train/1/Slidedat.ini"} <= adopted
    assert (paths.raw / "train" / "1" / "Data0001.dat").read_bytes() == one["1/Data0001.dat"]
    assert report.missing == ["train/3/ (the MIRAX data folder of train/3.mrxs)"]
    assert [m.name for m in report.mismatched] == ["train/2.mrxs"] and "Slidedat.ini" in report.mismatched[0].reason
    assert report.unexpected == []                   # the .dat files belong to their slides
    data_file = next(a for a in report.adopted if a.name == "train/1/Data0001.dat")
    assert data_file.size == 1000 and data_file.sha256 == hashlib.sha256(bytes([1]) * 1000).hexdigest()


def test_entry_without_file_list_adopts_everything(tmp_path):
    incoming = tmp_path / "in"
    make_mirax(incoming, "slide")
    (incoming / "labels.xlsx").write_bytes(b"PK")
    entry = make_entry(None)
    paths = dataset_paths(entry.id)
    report = manual.ingest(entry, incoming, paths, quiet=True)
    assert sorted(a.name for a in report.adopted) == ["labels.xlsx", "slide.mrxs", "slide/Data0000.dat",
                                                       "slide/Data0001.dat", "slide/Data0002.dat",
                                                       "slide/Slidedat.ini"]
    assert report.ok and report.unexpected == []


def test_second_ingest_is_idempotent(tmp_path):
    incoming = tmp_path / "in"
    incoming.mkdir()
    (incoming / "a.bin").write_bytes(GOOD)
    entry = make_entry([{"name": "a.bin", "size": len(GOOD)}])
    paths = dataset_paths(entry.id)
    manual.ingest(entry, incoming, paths, quiet=True)
    again = manual.ingest(entry, incoming, paths, quiet=True)
    assert [a.name for a in again.adopted] == ["a.bin"] and again.adopted[0].linked
    assert (incoming / "a.bin").stat().st_nlink == 2


@pytest.mark.skipif(not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat(tempfile.gettempdir()).st_dev,
                    reason="needs a second filesystem (/dev/shm) to cross")
def test_across_filesystems_the_file_is_copied(tmp_path):
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:
        (Path(other) / "a.bin").write_bytes(GOOD)
        entry = make_entry([{"name": "a.bin", "md5": md5(GOOD)}])
        paths = dataset_paths(entry.id)
        report = manual.ingest(entry, other, paths, quiet=True)
        assert report.copied == ["a.bin"] and (paths.raw / "a.bin").read_bytes() == GOOD


def test_manual_source_listing_prints_the_instructions():
    entry = make_entry([{"name": "a.bin"}])
    with pytest.raises(AccessError) as info:
        manual.list_files(entry.sources[0], None, entry)
    assert "Register at example.org" in str(info.value) and "--from DIR" in str(info.value)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(Exception) as info:
        manual.ingest(make_entry(None), tmp_path / "nope", dataset_paths("gated-test"), quiet=True)
    assert "no such folder" in str(info.value)


# ----------------------------------------------------------------------------- end to end
HEROHE_LIKE = """
id: herohe-mini
name: HEROHE mini
organs: [breast]
stains: [h&e]
tasks: [classification]
modality: wsi
access: registration
instructions: Register on the HEROHE challenge site and download the training slides.
sources:
  - kind: manual
    files:
      - {name: "1.mrxs", md5: %s}
      - {name: "2.mrxs"}
"""


def test_fetch_from_a_mirax_folder_and_failed_fetch_prints_instructions(tmp_path, extra_registry):
    incoming = tmp_path / "HEROHE"
    incoming.mkdir()
    one = make_mirax(incoming, "1")
    make_mirax(incoming, "2")
    (incoming / "readme.pdf").write_bytes(b"%PDF")
    extra_registry(HEROHE_LIKE % md5(one["1.mrxs"]))
    refused = run_cli("fetch", "herohe-mini")
    assert refused.returncode != 0 and "Register on the HEROHE challenge site" in refused.stderr
    assert "--from" in refused.stderr
    result = run_cli("fetch", "herohe-mini", "--from", str(incoming), "--json")
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("herohe-mini").raw
    assert (raw / "2" / "Slidedat.ini").exists() and (raw / "1" / "Data0002.dat").read_bytes() == bytes([2]) * 1000
    assert os.path.samefile(raw / "1.mrxs", incoming / "1.mrxs")
    assert "readme.pdf" in result.stderr and "not part of the dataset" in result.stderr
    report = json.loads(result.stdout)
    assert report["ingest"]["unexpected"] == ["readme.pdf"] and report["ingest"]["missing"] == []
    assert report["ingest"]["ok"] is True

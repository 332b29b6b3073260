"""Exit 0 only when everything asked for is in place and verified: `fetch --from` with an incomplete
or corrupt copy, `verify` against the registry's list, a dry run answered from pinned files without
the network, and the `info` card's last line."""
from __future__ import annotations

import json

import pytest
from emulators.entries import entry_yaml
from emulators.zenodo import ZenodoEmulator
from helpers import md5, run_cli
from servers.nginx import nginx  # noqa: F401 - the fixture

import histodata
from histodata.errors import IncompleteError
from histodata.layout import dataset_paths

GOOD, OTHER = b"slide-bytes" * 100, b"labels,1\n"


@pytest.fixture
def zen(emulate):
    return emulate(ZenodoEmulator())


def gated_entry(extra_registry) -> None:
    extra_registry(entry_yaml("gated-set", {"kind": "manual", "files": [
        {"name": "a.svs", "size": len(GOOD), "md5": md5(GOOD)},
        {"name": "b.svs", "size": len(GOOD), "md5": md5(GOOD)},
        {"name": "labels.csv", "md5": md5(OTHER)}]},
        access="registration", instructions="Register at example.org, then download the three files."))


def test_an_incomplete_or_corrupt_copy_is_adopted_in_part_and_exits_non_zero(tmp_path, extra_registry):
    gated_entry(extra_registry)
    incoming = tmp_path / "Downloads"
    incoming.mkdir()
    (incoming / "a.svs").write_bytes(GOOD)
    (incoming / "b.svs").write_bytes(GOOD[:-1] + b"X")            # right size, wrong bytes
    result = run_cli("fetch", "gated-set", "--from", str(incoming), "--json")
    assert result.returncode == 1
    assert "b.svs" in result.stderr and "labels.csv" in result.stderr and "Traceback" not in result.stderr
    report = json.loads(result.stdout)                              # --json still reports what happened
    assert [f["name"] for f in report["files"]] == ["a.svs"] and report["complete"] is False
    assert report["ingest"]["missing"] == ["labels.csv"]
    raw = dataset_paths("gated-set").raw
    assert (raw / "a.svs").read_bytes() == GOOD and not (raw / "b.svs").exists()
    with pytest.raises(IncompleteError) as caught:
        histodata.fetch("gated-set", from_dir=incoming, quiet=True)
    assert caught.value.report.ingest["mismatched"][0]["name"] == "b.svs"

    verify = run_cli("verify", "gated-set", "--json")
    assert verify.returncode == 1
    statuses = {f["name"]: f["status"] for f in json.loads(verify.stdout)["files"]}
    assert statuses == {"a.svs": "ok", "b.svs": "missing", "labels.csv": "missing"}
    assert run_cli("verify", "gated-set", "--files", "a.svs").returncode == 0

    (incoming / "b.svs").write_bytes(GOOD)
    (incoming / "labels.csv").write_bytes(OTHER)
    fixed = run_cli("fetch", "gated-set", "--from", str(incoming))
    assert fixed.returncode == 0, fixed.stderr
    assert "3 file(s) adopted" in fixed.stderr and "(0 B)" not in fixed.stderr
    assert run_cli("verify", "gated-set").returncode == 0


def test_symlinked_files_and_folders_in_the_from_folder_are_adopted_as_real_files(tmp_path,
                                                                                   extra_registry):
    import shutil

    gated_entry(extra_registry)
    elsewhere, incoming = tmp_path / "elsewhere", tmp_path / "Downloads"
    (elsewhere / "slides").mkdir(parents=True)
    incoming.mkdir()
    (elsewhere / "a.svs").write_bytes(GOOD)
    (elsewhere / "slides" / "b.svs").write_bytes(GOOD)
    (elsewhere / "labels.csv").write_bytes(OTHER)
    (incoming / "a.svs").symlink_to(elsewhere / "a.svs")               # a linked file
    (incoming / "slides").symlink_to(elsewhere / "slides")             # a linked folder
    (incoming / "labels.csv").symlink_to(elsewhere / "labels.csv")
    (incoming / "slides" / "loop").symlink_to(incoming)                # a link back into the tree
    result = run_cli("fetch", "gated-set", "--from", str(incoming))
    assert result.returncode == 0, result.stderr
    raw = dataset_paths("gated-set").raw
    assert not any(p.is_symlink() for p in raw.rglob("*"))
    shutil.rmtree(incoming)                                           # deleting DIR loses nothing
    assert (raw / "b.svs").read_bytes() == GOOD
    assert run_cli("verify", "gated-set").returncode == 0


def test_verify_counts_a_listed_file_that_failed_to_download_as_missing(nginx, extra_registry):
    (nginx.root / "one.bin").write_bytes(GOOD)
    extra_registry(entry_yaml("half", {"kind": "http", "files": [
        {"name": "one.bin", "url": nginx.url_for("one.bin"), "md5": md5(GOOD)},
        {"name": "two.bin", "url": nginx.url_for("two.bin")}]}))      # 404
    result = run_cli("fetch", "half")
    assert result.returncode != 0
    verify = run_cli("verify", "half", "--json")
    assert verify.returncode == 1
    assert {f["name"]: f["status"] for f in json.loads(verify.stdout)["files"]} == {"one.bin": "ok",
                                                                                    "two.bin": "missing"}


def test_a_dry_run_of_a_pinned_list_needs_no_network_and_says_so(zen, extra_registry, monkeypatch):
    extra_registry(entry_yaml("pinned-list", {"kind": "zenodo", "record": "424242", "files": [
        {"name": "a.zip", "size": 10, "md5": md5(b"x")}, {"name": "b.csv", "size": 20}]}))
    monkeypatch.setenv("HISTODATA_RETRIES", "1")
    result = run_cli("fetch", "pinned-list", "--dry-run")
    assert result.returncode == 0, result.stderr
    caption = " ".join(result.stdout.split())
    assert "listed from the registry's pinned file list, without the network" in caption
    document = json.loads(run_cli("fetch", "pinned-list", "--dry-run", "--json").stdout)
    assert document["listed_from"] == "registry"
    assert [f["name"] for f in document["files"]] == ["a.zip", "b.csv"]
    assert zen.server.requests == []                                # the provider was never asked
    offline = run_cli("fetch", "pinned-list", "--dry-run", env={"HISTODATA_OFFLINE": "1"})
    assert offline.returncode == 0, offline.stderr


def test_fetch_repairs_what_verify_found_changed_even_at_the_same_size(zen, extra_registry):
    files = {"tiles.zip": b"zip " * 5000, "labels.csv": b"id,label\n1,tumor\n"}
    zen.add("7007", files)
    extra_registry(entry_yaml("repairable", {"kind": "zenodo", "record": "7007"}))
    assert run_cli("fetch", "repairable").returncode == 0
    raw = dataset_paths("repairable").raw
    damaged = bytearray(files["tiles.zip"])
    damaged[10] ^= 1
    (raw / "tiles.zip").write_bytes(bytes(damaged))                 # same size, other bytes
    verify = run_cli("verify", "repairable")
    assert verify.returncode == 1 and "changed: tiles.zip" in verify.stderr
    repair = run_cli("fetch", "repairable", "--json")
    assert repair.returncode == 0, repair.stderr
    statuses = {f["name"]: f["status"] for f in json.loads(repair.stdout)["files"]}
    assert statuses == {"tiles.zip": "downloaded", "labels.csv": "present"}
    assert (raw / "tiles.zip").read_bytes() == files["tiles.zip"]
    assert run_cli("verify", "repairable").returncode == 0
    again = run_cli("fetch", "repairable")
    assert again.returncode == 0 and "nothing to download" in again.stderr


def test_a_complete_dataset_needs_no_write_and_an_unwritable_root_says_so(nginx, extra_registry,
                                                                           tmp_path):
    (nginx.root / "one.bin").write_bytes(GOOD)
    extra_registry(entry_yaml("done-set", {"kind": "http", "files": [
        {"name": "one.bin", "url": nginx.url_for("one.bin"), "md5": md5(GOOD)}]},
        standardize={"with": "raw"}))
    assert run_cli("fetch", "done-set").returncode == 0
    paths = dataset_paths("done-set")
    paths.lock.unlink(missing_ok=True)
    paths.lock.mkdir()                   # no lock can be taken there now, as on a read-only copy
    again = run_cli("fetch", "done-set")
    assert again.returncode == 0 and "nothing to download" in again.stderr, again.stderr
    not_a_folder = tmp_path / "root-is-a-file"
    not_a_folder.write_text("")
    refused = run_cli("fetch", "done-set", "--root", str(not_a_folder))
    assert refused.returncode == 1 and "cannot write in" in refused.stderr and "--root" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("damage", ["", "{\"files\": {\"one.bin\"", "null", "{\"files\": \"x\"}",
                                    "{\"files\": {\"one.bin\": {\"size\": \"big\"}}}", "\udcff"])
def test_a_damaged_record_is_set_aside_and_rebuilt_from_what_verifies_on_disk(damage, nginx,
                                                                              extra_registry):
    (nginx.root / "one.bin").write_bytes(GOOD)
    extra_registry(entry_yaml("damaged-record", {"kind": "http", "files": [
        {"name": "one.bin", "url": nginx.url_for("one.bin"), "md5": md5(GOOD)}]}))
    assert run_cli("fetch", "damaged-record").returncode == 0
    paths = dataset_paths("damaged-record")
    paths.record.write_bytes(damage.encode("utf-8", "surrogateescape"))
    listing = run_cli("list", "--json")
    assert listing.returncode == 0, listing.stderr
    result = run_cli("fetch", "damaged-record", "--json")
    assert result.returncode == 0, result.stderr
    assert "is damaged" in listing.stderr + result.stderr and "Traceback" not in result.stderr
    statuses = [f["status"] for f in json.loads(result.stdout)["files"]]
    assert statuses == ["present"]                                  # re-verified on disk, not fetched again
    assert json.loads(paths.record.read_text())["files"]["one.bin"]["verified"] == {"md5": md5(GOOD)}
    aside = paths.record.with_name("dataset.json.damaged")
    assert aside.read_bytes() == damage.encode("utf-8", "surrogateescape")
    assert run_cli("verify", "damaged-record").returncode == 0


def test_the_info_card_ends_with_a_newline(extra_registry):
    for dataset_id in ("bach", "herohe", "camelyon16"):
        assert run_cli("info", dataset_id).stdout.endswith("\n")

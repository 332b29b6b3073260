"""The fetch flow end to end: Zenodo and HTTP sources through the mirror map, the dataset record,
subsets, dry runs, completeness, fallback between sources, checksums, gated data, and verify."""
import json
import os

import pytest

import histodata
from helpers import md5, run_cli, sha256
from emulators.doi import DoiResolver
from emulators.entries import entry_yaml
from emulators.zenodo import ZenodoEmulator
from histodata.errors import AccessError, ChecksumError, HistodataError
from histodata.layout import dataset_paths, read_record
from servers.nginx import nginx  # noqa: F401 - the fixture

FILES = {"tiles.zip": b"zip " * 5000, "labels.csv": b"id,label\n1,tumor\n", "docs/README.md": b"# read me\n"}


@pytest.fixture
def zen(emulate, monkeypatch):
    emulator = emulate(ZenodoEmulator())
    emulate(DoiResolver())                       # unknown records end at the DOI resolver
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    monkeypatch.setenv("HISTODATA_RETRIES", "2")
    return emulator


@pytest.fixture
def tiles(zen, extra_registry):
    """An open entry with one Zenodo source holding FILES."""
    zen.add("1001", FILES)
    extra_registry(entry_yaml("tiles", {"kind": "zenodo", "record": "1001"}))
    return dataset_paths("tiles")


def content_requests(zen):
    return [r for r in zen.server.requests if r.path.endswith("/content")]


def test_fetch_downloads_verifies_and_records_every_file(tiles):
    report = histodata.fetch("tiles", quiet=True)
    for name, data in FILES.items():
        assert tiles.raw_file(name).read_bytes() == data
    record = read_record(tiles)
    info = record["files"]["tiles.zip"]
    assert info["size"] == len(FILES["tiles.zip"]) and info["sha256"] == sha256(FILES["tiles.zip"])
    assert info["verified"] == {"md5": md5(FILES["tiles.zip"])} and info["verified_against"] == "provider"
    assert (info["source_kind"], info["source_index"]) == ("zenodo", 0)
    assert info["fetched_at"] and info["histodata_version"] == histodata.__version__
    assert record["entry"]["id"] == "tiles" and record["fetch"]["complete"] is True
    assert {f.status for f in report.files} == {"downloaded"} and report.complete
    assert report.downloaded_bytes == sum(map(len, FILES.values()))


def test_second_fetch_downloads_nothing_and_says_complete(tiles, zen):
    histodata.fetch("tiles", quiet=True)
    before = len(zen.server.requests)
    result = run_cli("fetch", "tiles", "--json")
    assert result.returncode == 0, result.stderr
    assert "complete" in result.stderr and "nothing to download" in result.stderr
    assert len(zen.server.requests) == before          # not even the API
    document = json.loads(result.stdout)
    assert document["already_complete"] and document["downloaded_bytes"] == 0
    assert {f["status"] for f in document["files"]} == {"present"}


def test_a_changed_file_on_disk_is_fetched_again(tiles, zen):
    histodata.fetch("tiles", quiet=True)
    tiles.raw_file("labels.csv").write_bytes(b"truncated")
    report = histodata.fetch("tiles", quiet=True)
    assert {f.name: f.status for f in report.files}["labels.csv"] == "downloaded"
    assert tiles.raw_file("labels.csv").read_bytes() == FILES["labels.csv"]
    assert len(content_requests(zen)) == len(FILES) + 1


def test_files_left_by_an_interrupted_run_are_rehashed_not_downloaded_again(tiles, zen):
    histodata.fetch("tiles", quiet=True)
    tiles.record.unlink()                          # as if the run stopped before recording
    tiles.raw_file("labels.csv").write_bytes(b"id,label\n1,normal\n")   # same size, other bytes
    report = histodata.fetch("tiles", quiet=True)
    assert {f.name: f.status for f in report.files} == {"tiles.zip": "present", "labels.csv": "downloaded",
                                                        "docs/README.md": "present"}
    assert len(content_requests(zen)) == len(FILES) + 1
    assert tiles.raw_file("labels.csv").read_bytes() == FILES["labels.csv"]
    assert read_record(tiles)["files"]["tiles.zip"]["verified"] == {"md5": md5(FILES["tiles.zip"])}


def test_rate_limit_headers_pace_every_request_so_no_429_is_served(tiles, zen):
    zen.rate_limit(2, 1.0)                      # like Zenodo's 60 a minute, in small
    histodata.fetch("tiles", workers=1, quiet=True)
    assert zen.served_429 == 0
    assert all(tiles.raw_file(name).read_bytes() == data for name, data in FILES.items())


def test_files_globs_select_by_path_or_base_name(tiles, zen):
    report = histodata.fetch("tiles", files=["docs/*", "labels.*"], quiet=True)
    assert sorted(f.name for f in report.files) == ["docs/README.md", "labels.csv"]
    assert not tiles.raw_file("tiles.zip").exists()
    assert read_record(tiles)["fetch"]["complete"] is False
    again = histodata.fetch("tiles", files=["README.md"], quiet=True)     # base name; already there
    assert again.already_complete and [f.name for f in again.files] == ["docs/README.md"]


def test_a_pattern_matching_nothing_is_an_error_listing_names(tiles):
    result = run_cli("fetch", "tiles", "--files", "*.tif")
    assert result.returncode == 1
    assert "'*.tif' matched none of the 3 file(s)" in result.stderr and "labels.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_dry_run_lists_names_sizes_checksums_and_total_and_downloads_nothing(tiles, zen):
    result = run_cli("fetch", "tiles", "--dry-run")
    assert result.returncode == 0, result.stderr
    for name in FILES:
        assert name in result.stdout
    assert "md5 (provider)" in result.stdout and "zenodo (source 1)" in result.stdout
    assert "total 20.0 KB" in result.stdout
    document = json.loads(run_cli("fetch", "tiles", "--dry-run", "--json").stdout)
    assert document["dry_run"] and document["total_bytes"] == sum(map(len, FILES.values()))
    assert {f["status"] for f in document["files"]} == {"planned"}
    assert not content_requests(zen) and not tiles.raw.exists()


def test_dry_run_marks_files_already_on_disk(tiles):
    histodata.fetch("tiles", files=["labels.csv"], quiet=True)
    plan = histodata.fetch("tiles", dry_run=True)
    assert {f.name: f.status for f in plan.files} == {"tiles.zip": "planned", "labels.csv": "present",
                                                      "docs/README.md": "planned"}
    assert "1 file(s) (17 B) already on disk" in run_cli("fetch", "tiles", "--dry-run").stdout


def test_fallback_to_the_next_source_says_so(zen, extra_registry, nginx):
    (nginx.root / "labels.csv").write_bytes(FILES["labels.csv"])
    extra_registry(entry_yaml("fallback", {"kind": "zenodo", "record": "404404"},
                              {"kind": "http", "files": [{"name": "labels.csv",
                                                          "url": nginx.url_for("labels.csv"),
                                                          "md5": md5(FILES["labels.csv"])}]}))
    result = run_cli("fetch", "fallback")
    assert result.returncode == 0, result.stderr
    assert "zenodo (source 1) failed" in result.stderr and "Trying http (source 2)" in result.stderr
    info = read_record(dataset_paths("fallback"))["files"]["labels.csv"]
    assert (info["source_kind"], info["source_index"], info["verified_against"]) == ("http", 1, "registry")


def test_an_unreachable_source_falls_back_too(extra_registry, nginx, monkeypatch):
    import socket

    with socket.socket() as probe:                  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("HISTODATA_RETRIES", "2")
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    (nginx.root / "a.bin").write_bytes(b"abc")
    extra_registry(entry_yaml("unreachable", {"kind": "http", "files": [
        {"name": "a.bin", "url": f"http://127.0.0.1:{closed}/a.bin"}]},
        {"kind": "http", "files": [{"name": "a.bin", "url": nginx.url_for("a.bin")}]}))
    report = histodata.fetch("unreachable", quiet=True)
    assert "refused the connection" in report.fallbacks[0] and report.sources_used == ["http (source 2)"]
    assert dataset_paths("unreachable").raw_file("a.bin").read_bytes() == b"abc"


def test_only_files_a_failing_source_could_not_deliver_come_from_the_next(zen, extra_registry, nginx):
    zen.add("1001", FILES)
    (nginx.root / "labels.csv").write_bytes(FILES["labels.csv"])
    wrong = "0" * 32
    extra_registry(entry_yaml("mixed", {"kind": "zenodo", "record": "1001", "files": [
        {"name": "labels.csv", "md5": wrong}, {"name": "tiles.zip"}, {"name": "docs/README.md"}]},
        {"kind": "http", "files": [{"name": n, "url": nginx.url_for(n)} for n in FILES]}))
    report = histodata.fetch("mixed", quiet=True)
    assert len(report.fallbacks) == 1 and "labels.csv" in report.fallbacks[0]
    record = read_record(dataset_paths("mixed"))["files"]
    assert record["tiles.zip"]["source_kind"] == "zenodo" and record["labels.csv"]["source_kind"] == "http"
    assert [(r["method"], r["uri"]) for r in nginx.requests()] == [("GET", "/labels.csv")]


def test_include_keeps_the_files_of_this_dataset_when_a_record_holds_more(zen, extra_registry):
    zen.add("1001", FILES)                          # one record, two datasets (like her2-ihc-40x)
    extra_registry(entry_yaml("part", {"kind": "zenodo", "record": "1001", "include": ["*.zip"],
                                       "files": [{"name": "tiles.zip", "md5": md5(FILES["tiles.zip"])}]}))
    report = histodata.fetch("part", quiet=True)
    assert [f.name for f in report.files] == ["tiles.zip"] and report.complete
    assert not dataset_paths("part").raw_file("labels.csv").exists()
    assert histodata.fetch("part", quiet=True).already_complete


def test_pinned_checksums_win_and_a_mismatch_keeps_no_file(zen, extra_registry):
    zen.add("1001", FILES)
    extra_registry(entry_yaml("pinned", {"kind": "zenodo", "record": "1001", "files": [
        {"name": "tiles.zip", "sha256": sha256(FILES["tiles.zip"])},
        {"name": "labels.csv", "md5": "f" * 32}]}))
    with pytest.raises(ChecksumError, match="md5"):
        histodata.fetch("pinned", quiet=True)
    paths = dataset_paths("pinned")
    assert not paths.raw_file("labels.csv").exists()
    info = read_record(paths)["files"]["tiles.zip"]
    assert info["verified"] == {"sha256": sha256(FILES["tiles.zip"])}
    assert info["verified_against"] == "registry"
    result = run_cli("fetch", "pinned", "--files", "labels.csv")
    assert result.returncode == 1 and "md5" in result.stderr and "Traceback" not in result.stderr


def test_files_without_any_checksum_are_reported_unverified(zen, extra_registry):
    zen.add("1001", FILES, checksums=False)
    extra_registry(entry_yaml("bare", {"kind": "zenodo", "record": "1001"}))
    result = run_cli("fetch", "bare")
    assert result.returncode == 0, result.stderr
    assert "3 file(s) are unverified" in result.stderr
    info = read_record(dataset_paths("bare"))["files"]["labels.csv"]
    assert info["verified"] == {} and info["verified_against"] == "none" and info["sha256"]
    verify = run_cli("verify", "bare")
    assert verify.returncode == 0 and "unverified" in verify.stderr


def test_verify_reports_ok_changed_and_missing_offline(tiles, monkeypatch):
    histodata.fetch("tiles", quiet=True)
    monkeypatch.setenv("HISTODATA_OFFLINE", "1")
    assert histodata.verify("tiles").ok
    ok = run_cli("verify", "tiles")
    assert ok.returncode == 0 and "3 ok, 0 missing, 0 changed" in ok.stderr
    data = bytearray(FILES["tiles.zip"])
    data[100] ^= 1
    tiles.raw_file("tiles.zip").write_bytes(bytes(data))          # same size, other bytes
    tiles.raw_file("labels.csv").unlink()
    bad = run_cli("verify", "tiles", "--json")
    assert bad.returncode == 1
    statuses = {f["name"]: f["status"] for f in json.loads(bad.stdout)["files"]}
    assert statuses == {"tiles.zip": "changed", "labels.csv": "missing", "docs/README.md": "ok"}


def test_verify_also_checks_registry_checksums(zen, extra_registry):
    zen.add("1001", FILES)
    extra_registry(entry_yaml("later", {"kind": "zenodo", "record": "1001"}))
    histodata.fetch("later", quiet=True)
    extra_registry(entry_yaml("later", {"kind": "zenodo", "record": "1001", "files": [
        {"name": "labels.csv", "sha1": "0" * 40}]}))       # a pin added (wrongly) after the fetch
    report = histodata.verify("later")
    assert {f.name: f.status for f in report.files}["labels.csv"] == "changed"
    assert "sha1 expected" in [f for f in report.files if f.name == "labels.csv"][0].detail


def test_verify_without_a_fetch_says_what_to_do(extra_registry):
    result = run_cli("verify", "nothing-here")
    assert result.returncode == 1 and "histodata fetch nothing-here" in result.stderr


def test_gated_entry_without_automatic_source_explains_and_hints_from(extra_registry):
    extra_registry(entry_yaml("gated", {"kind": "manual", "files": [{"name": "a.svs"}]},
                              access="registration",
                              instructions="Register at https://example.org/challenge and accept the rules."))
    with pytest.raises(AccessError) as caught:
        histodata.fetch("gated")
    message = str(caught.value)
    assert "Register at https://example.org/challenge" in message and "--from DIR" in message
    result = run_cli("fetch", "gated")
    assert result.returncode == 1 and "accept the rules" in result.stderr


def test_every_source_refusing_access_is_an_access_error_with_instructions(zen, extra_registry):
    zen.add("5001", FILES, restricted=True, token="t0ken-for-5001")
    extra_registry(entry_yaml("closed", {"kind": "zenodo", "record": "5001"}, access="request",
                              instructions="Ask the owners for access on the record's page."))
    with pytest.raises(AccessError, match="Ask the owners.*--from"):
        histodata.fetch("closed", quiet=True)


def test_the_zenodo_token_is_used_but_never_written_or_printed(zen, extra_registry):
    token = "t0ken-for-5001-very-secret"
    zen.add("5001", FILES, restricted=True, token=token)
    extra_registry(entry_yaml("closed", {"kind": "zenodo", "record": "5001"}, access="request",
                              instructions="Ask the owners."))
    result = run_cli("-v", "fetch", "closed", "--json", env={"ZENODO_TOKEN": token})
    assert result.returncode == 0, result.stderr
    assert token not in result.stdout + result.stderr
    paths = dataset_paths("closed")
    assert token not in paths.record.read_text()
    assert all(token not in str(r.query) for r in zen.server.requests)
    assert paths.raw_file("tiles.zip").read_bytes() == FILES["tiles.zip"]


def test_source_option_and_bad_source_number(zen, extra_registry, nginx):
    (nginx.root / "labels.csv").write_bytes(FILES["labels.csv"])
    zen.add("1001", FILES)
    extra_registry(entry_yaml("two", {"kind": "zenodo", "record": "1001"},
                              {"kind": "http", "files": [{"name": "labels.csv",
                                                          "url": nginx.url_for("labels.csv")}]}))
    report = histodata.fetch("two", source=2, quiet=True)
    assert [f.name for f in report.files] == ["labels.csv"] and report.sources_used == ["http (source 2)"]
    assert not content_requests(zen)
    with pytest.raises(HistodataError, match="has 2 source"):
        histodata.fetch("two", source=3)


def test_offline_fetch_of_a_complete_dataset_needs_no_network(tiles, monkeypatch):
    histodata.fetch("tiles", quiet=True)
    monkeypatch.setenv("HISTODATA_OFFLINE", "1")
    assert histodata.fetch("tiles", quiet=True).already_complete
    os.remove(tiles.raw_file("labels.csv"))
    with pytest.raises(HistodataError, match="HISTODATA_OFFLINE"):
        histodata.fetch("tiles", quiet=True)


def test_a_second_fetch_of_the_same_dataset_waits_for_the_first(tiles):
    import subprocess
    import sys

    from filelock import FileLock

    tiles.base.mkdir(parents=True)
    lock = FileLock(str(tiles.lock))
    lock.acquire()                                   # as if another fetch were running
    process = subprocess.Popen([sys.executable, "-m", "histodata", "fetch", "tiles", "--quiet"],
                               stderr=subprocess.PIPE, text=True)
    try:
        first_line = process.stderr.readline()
        assert "another histodata process is fetching tiles" in first_line
        assert not tiles.raw_file("tiles.zip").exists()
    finally:
        lock.release()
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert tiles.raw_file("tiles.zip").read_bytes() == FILES["tiles.zip"]


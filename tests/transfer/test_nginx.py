"""The engine against a real nginx: one-pass verification, mirrors, resume with Range/If-Range."""
from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from histodata.errors import ChecksumError, DownloadError
from histodata.http import USER_AGENT
from histodata.transfer import download

from .conftest import leftovers, md5, payload, sha256

ORIGIN = "https://data.example.org"
DATA = payload(2 << 20, seed=7)


@pytest.fixture
def served(nginx, monkeypatch):
    """`https://data.example.org/a.bin` mapped to nginx (fast); `.slow()` switches to the throttled view."""
    (nginx.root / "a.bin").write_bytes(DATA)

    def fast():
        monkeypatch.setenv("HISTODATA_MIRRORS", f"{ORIGIN}={nginx.url}")

    def slow():
        monkeypatch.setenv("HISTODATA_MIRRORS", f"{ORIGIN}={nginx.url}/slow")

    fast()
    nginx.fast, nginx.slow = fast, slow
    return nginx


def test_download_verifies_every_algorithm_in_one_request(served, tmp_path):
    checksums = {"md5": md5(DATA), "sha256": sha256(DATA), "sha1": hashlib.sha1(DATA).hexdigest()}
    result = download(f"{ORIGIN}/a.bin", tmp_path / "out" / "a.bin", checksums, len(DATA), quiet=True)
    assert result.path.read_bytes() == DATA
    assert result.verified == ["md5", "sha1", "sha256"]
    assert result.hashes == checksums and result.size == len(DATA)
    (request,) = served.requests()
    assert request["uri"] == "/a.bin" and request["status"] == 200 and request["range"] == ""
    assert request["user_agent"] == USER_AGENT
    assert leftovers(tmp_path / "out") == ["a.bin"]


def test_sha256_is_always_computed_for_the_local_record(served, tmp_path):
    result = download(f"{ORIGIN}/a.bin", tmp_path / "a.bin", quiet=True)
    assert result.hashes == {"sha256": sha256(DATA)} and result.verified == []


def test_checksum_prefixes_and_case_are_accepted(served, tmp_path):
    result = download(f"{ORIGIN}/a.bin", tmp_path / "a.bin", {"MD5": "md5:" + md5(DATA).upper()}, quiet=True)
    assert result.verified == ["md5"]


def test_bad_checksum_argument_is_a_clear_error(served, tmp_path):
    with pytest.raises(DownloadError, match="expected 32 hex digits"):
        download(f"{ORIGIN}/a.bin", tmp_path / "a.bin", {"md5": "abc"}, quiet=True)
    with pytest.raises(DownloadError, match="unknown checksum algorithm"):
        download(f"{ORIGIN}/a.bin", tmp_path / "a.bin", {"crc99": "abc"}, quiet=True)


def interrupt_after(run, folder, min_bytes):
    """Run `run(cancel)` in a thread and cancel it (like Ctrl-C) once a partial holds min_bytes."""
    cancel, outcome = threading.Event(), {}

    def target():
        try:
            run(cancel)
        except BaseException as err:  # noqa: BLE001 - the interruption is what we want to see
            outcome["error"] = err

    thread = threading.Thread(target=target)
    thread.start()
    wait_for_partial(folder, min_bytes)
    cancel.set()
    thread.join(30)
    return outcome.get("error")


def wait_for_partial(folder, min_bytes, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sizes = [e.stat().st_size for e in os.scandir(folder) if e.name.endswith(".partial")] \
            if os.path.isdir(folder) else []
        if sizes and max(sizes) >= min_bytes:
            return max(sizes)
        time.sleep(0.02)
    raise AssertionError(f"no partial of {min_bytes} bytes in {folder}")


def start_slow_download(served, target, **kwargs):
    served.slow()
    return interrupt_after(lambda cancel: download(f"{ORIGIN}/a.bin", target, quiet=True, cancel=cancel,
                                                   **kwargs), target.parent, 200_000)


def test_interrupted_download_resumes_next_run_with_if_range(served, tmp_path):
    target = tmp_path / "out" / "a.bin"
    error = start_slow_download(served, target, checksums={"md5": md5(DATA)})
    assert isinstance(error, KeyboardInterrupt)
    assert not target.exists()
    served.fast()
    result = download(f"{ORIGIN}/a.bin", target, {"md5": md5(DATA)}, len(DATA), quiet=True)
    assert result.resumed_from >= 200_000 and target.read_bytes() == DATA
    last = served.requests()[-1]
    assert last["status"] == 206 and last["range"] == f"bytes={result.resumed_from}-"
    assert last["if_range"].startswith('"')  # nginx's strong ETag
    assert last["bytes_sent"] == len(DATA) - result.resumed_from
    assert leftovers(target.parent) == ["a.bin"]


def test_file_changed_on_server_restarts_from_zero(served, tmp_path):
    target = tmp_path / "out" / "a.bin"
    start_slow_download(served, target)
    new = payload(len(DATA), seed=8)
    (served.root / "a.bin").write_bytes(new)
    os.utime(served.root / "a.bin", (time.time() + 5, time.time() + 5))  # a new Last-Modified/ETag
    served.fast()
    result = download(f"{ORIGIN}/a.bin", target, quiet=True)
    assert result.resumed_from == 0 and target.read_bytes() == new
    last = served.requests()[-1]
    assert last["range"] and last["if_range"] and last["status"] == 200


def test_corrupt_kept_bytes_are_detected_and_downloaded_again(served, tmp_path):
    target = tmp_path / "out" / "a.bin"
    start_slow_download(served, target, checksums={"md5": md5(DATA)})
    (partial,) = [p for p in target.parent.iterdir() if p.name.endswith(".partial")]
    with open(partial, "r+b") as handle:  # bit rot in the kept prefix
        handle.write(b"\0" * 100)
    served.fast()
    result = download(f"{ORIGIN}/a.bin", target, {"md5": md5(DATA)}, quiet=True)
    assert result.resumed_from == 0 and target.read_bytes() == DATA


def test_checksum_mismatch_keeps_the_good_file_and_says_which(served, tmp_path):
    target = tmp_path / "out" / "a.bin"
    target.parent.mkdir()
    target.write_bytes(b"good")
    wrong = "0" * 64
    with pytest.raises(ChecksumError, match=f"sha256 expected {wrong} got {sha256(DATA)}"):
        download(f"{ORIGIN}/a.bin", target, {"sha256": wrong}, quiet=True)
    assert target.read_bytes() == b"good"
    assert leftovers(tmp_path / "out") == ["a.bin"]


def test_not_enough_disk_space_fails_before_any_request(served, tmp_path):
    with pytest.raises(DownloadError, match="not enough free space"):
        download(f"{ORIGIN}/a.bin", tmp_path / "a.bin", size=10 ** 18, quiet=True)
    assert served.requests() == []


def test_missing_file_is_not_found(served, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download(f"{ORIGIN}/missing.bin", tmp_path / "missing.bin", quiet=True)

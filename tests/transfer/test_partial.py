"""Leftover partial files: claimed when abandoned, left alone when another process may own them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from histodata.errors import DownloadError
from histodata.transfer import download

from .conftest import leftovers, md5, payload

DATA = payload(200_000, seed=9)


def leave_partial(server, tmp_path, name="a.bin"):
    """A real leftover: a run that gave up after its tries."""
    url = server.add("/" + name, DATA, ["drop:40000"] + ["status:503"] * 3)
    with pytest.raises(DownloadError):
        download(url, tmp_path / name, {"md5": md5(DATA)}, quiet=True)
    (partial,) = tmp_path.glob(f".{name}.*.partial")
    return url, partial


def test_a_partial_of_a_live_process_is_left_alone(fault_server, tmp_path):
    url, partial = leave_partial(fault_server, tmp_path)
    sidecar = partial.with_name(partial.name + ".json")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) as other:
        try:
            state = json.loads(sidecar.read_text())
            state["pid"] = other.pid
            sidecar.write_text(json.dumps(state))
            foreign = partial.rename(tmp_path / f".a.bin.{other.pid}-0a1b2c3d.partial")
            sidecar.rename(foreign.with_name(foreign.name + ".json"))
            result = download(url, tmp_path / "a.bin", {"md5": md5(DATA)}, quiet=True)
            assert result.resumed_from == 0 and foreign.exists()  # never claimed, never deleted
        finally:
            other.kill()
    result = download(url, tmp_path / "b" / "a.bin", {"md5": md5(DATA)}, quiet=True)  # unaffected
    assert result.path.read_bytes() == DATA


def test_an_abandoned_partial_is_claimed_under_a_new_name(fault_server, tmp_path):
    url, partial = leave_partial(fault_server, tmp_path)
    result = download(url, tmp_path / "a.bin", {"md5": md5(DATA)}, quiet=True)
    assert result.resumed_from == 40000 and not partial.exists()
    assert leftovers(tmp_path) == ["a.bin"]


def test_partials_of_a_similarly_named_target_are_not_touched(fault_server, tmp_path):
    _url, sibling = leave_partial(fault_server, tmp_path, name="a.bin.md5")
    url = fault_server.add("/a.bin", DATA)
    download(url, tmp_path / "a.bin", quiet=True)
    assert sibling.exists()


def test_a_partial_for_another_url_is_not_resumed(fault_server, tmp_path):
    _url, partial = leave_partial(fault_server, tmp_path)
    other = fault_server.add("/elsewhere/a.bin", DATA)
    result = download(other, tmp_path / "a.bin", {"md5": md5(DATA)}, quiet=True)
    assert result.resumed_from == 0 and not partial.exists()
    assert leftovers(tmp_path) == ["a.bin"]


def test_a_complete_leftover_is_verified_and_committed_without_downloading_again(fault_server, tmp_path):
    url, partial = leave_partial(fault_server, tmp_path)
    partial.write_bytes(DATA)  # a crash after the last byte, before the rename
    result = download(url, tmp_path / "a.bin", {"md5": md5(DATA)}, len(DATA), quiet=True)
    assert result.resumed_from == len(DATA) and result.path.read_bytes() == DATA
    last = fault_server.requests_for("/a.bin")[-1]
    assert last["headers"]["Range"] == f"bytes={len(DATA)}-"  # answered 416: nothing left to send
    assert leftovers(tmp_path) == ["a.bin"]

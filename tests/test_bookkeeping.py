"""The engine's bookkeeping (locks, partial files, their state, temporaries) lives in the dataset's
`.partial/` folder, never in raw/: a listed file named like it is a dataset file like any other."""
import os
import threading
import time

import pytest
from filelock import FileLock

from helpers import md5, run_cli
from emulators.doi import DoiResolver
from emulators.entries import entry_yaml
from emulators.zenodo import ZenodoEmulator
from histodata.errors import DownloadError
from histodata.layout import dataset_paths, read_record
from histodata.record import dataset_lock
from histodata.transfer import download
from servers.faults import fault_server  # noqa: F401,F811 - the fixture

# Each name is what some version of the engine or the adoption step uses for its own files.
LOOKALIKES = {"x.bin": b"x" * 3000, ".x.bin.lock": b"a listed file, not a lock\n",
              ".x.bin.123-0a1b2c3d.partial": b"not a partial\n",
              ".x.bin.123-0a1b2c3d.partial.json": b'{"not": "a sidecar"}\n',
              ".x.bin.77.adopt": b"not a temporary\n", "x.bin.zip": b"not kaggle's temporary\n"}
DATA = b"0123456789" * 20_000


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setenv("HISTODATA_BACKOFF", "0")
    monkeypatch.setenv("HISTODATA_RETRIES", "2")


@pytest.fixture
def zen(emulate):
    emulator = emulate(ZenodoEmulator())
    emulate(DoiResolver())
    return emulator


@pytest.mark.parametrize("files", [{"x.bin": b"x" * 3000, ".x.bin.lock": b"a listed file\n"}, LOOKALIKES],
                         ids=["lock", "every-kind"])
def test_listed_files_named_like_bookkeeping_are_kept_and_verified(zen, extra_registry, files):
    zen.add("1001", files)
    extra_registry(entry_yaml("lookalikes", {"kind": "zenodo", "record": "1001"}))
    result = run_cli("fetch", "lookalikes")
    assert result.returncode == 0, result.stderr
    paths = dataset_paths("lookalikes")
    assert sorted(os.listdir(paths.raw)) == sorted(files)
    for name, data in files.items():
        assert paths.raw_file(name).read_bytes() == data
        assert read_record(paths)["files"][name]["verified"] == {"md5": md5(data)}
    assert not (paths.base / ".partial").exists()   # nothing in progress: no bookkeeping left
    verify = run_cli("verify", "lookalikes")
    assert verify.returncode == 0 and f"{len(files)} ok, 0 missing, 0 changed" in verify.stderr
    again = run_cli("fetch", "lookalikes")       # a second run changes nothing
    assert again.returncode == 0 and sorted(os.listdir(paths.raw)) == sorted(files)


def test_an_interrupted_download_keeps_its_partial_outside_raw(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA, ["drop:40000", "status:503"])
    work = tmp_path / ".partial"
    with pytest.raises(DownloadError):
        download(url, tmp_path / "raw" / "a.bin", {"md5": md5(DATA)}, work_dir=work, quiet=True)
    assert os.listdir(tmp_path / "raw") == []
    assert len(list(work.glob(".a.bin.*.partial"))) == 1
    result = download(url, tmp_path / "raw" / "a.bin", {"md5": md5(DATA)}, work_dir=work, quiet=True)
    assert result.resumed_from == 40000 and os.listdir(tmp_path / "raw") == ["a.bin"]
    assert sorted(os.listdir(work)) == [".a.bin.lock"]


def test_a_partial_left_beside_the_target_by_an_older_version_still_resumes(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA, ["drop:40000", "status:503"])
    raw = tmp_path / "raw"
    with pytest.raises(DownloadError):
        download(url, raw / "a.bin", {"md5": md5(DATA)}, quiet=True)   # the old layout: beside it
    (legacy,) = raw.glob(".a.bin.*.partial")
    lookalike = raw / ".a.bin.9-0a1b2c3d.partial"          # no sidecar: not ours, never touched
    lookalike.write_bytes(b"a dataset file")
    result = download(url, raw / "a.bin", {"md5": md5(DATA)}, work_dir=tmp_path / ".partial", quiet=True)
    assert result.resumed_from == 40000 and result.path.read_bytes() == DATA
    assert not legacy.exists() and not legacy.with_name(legacy.name + ".json").exists()
    assert lookalike.read_bytes() == b"a dataset file"


def test_a_lock_whose_folder_vanishes_while_waiting_is_taken_after_all(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA)
    work = tmp_path / "work"
    work.mkdir()
    holder = FileLock(str(work / ".a.bin.lock"))
    holder.acquire()
    outcome = {}

    def fetch():
        try:
            outcome["result"] = download(url, tmp_path / "a.bin", work_dir=work, quiet=True)
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            outcome["error"] = err

    waiting = threading.Thread(target=fetch)
    waiting.start()
    time.sleep(0.5)
    assert waiting.is_alive() and "result" not in outcome      # it waits for the holder
    for name in os.listdir(work):
        os.unlink(work / name)
    os.rmdir(work)                                               # the folder vanishes meanwhile
    holder.release()
    waiting.join(30)
    assert not waiting.is_alive(), "still waiting for a lock in a folder that no longer exists"
    assert "error" not in outcome and outcome["result"].path.read_bytes() == DATA


def test_the_dataset_lock_survives_its_folder_vanishing_while_waiting(tmp_path):
    paths = dataset_paths("gone", tmp_path)
    paths.base.mkdir()
    holder = FileLock(str(paths.lock))
    holder.acquire()
    entered = threading.Event()

    def wait_for_it():
        with dataset_lock(paths):
            entered.set()

    waiting = threading.Thread(target=wait_for_it, daemon=True)
    waiting.start()
    time.sleep(0.5)
    os.unlink(paths.lock)
    os.rmdir(paths.base)
    holder.release()
    assert entered.wait(30), "still waiting for a lock in a folder that no longer exists"   # (seconds under load)

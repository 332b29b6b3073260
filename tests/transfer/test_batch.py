"""download_many: a bounded pool, per-host limits after the mirror map, one error for all failures."""
from __future__ import annotations

import pytest
from servers.faults import running

from histodata.errors import DownloadError
from histodata.transfer import DownloadTask, download_many

from .conftest import md5, payload


@pytest.fixture
def slow_server():
    with running(delay=0.15) as server:
        yield server


def tasks_for(server, tmp_path, count, origin=None, prefix="f"):
    tasks = []
    for i in range(count):
        data = payload(10_000 + i, seed=i)
        url = server.add(f"/{prefix}{i}.bin", data)
        if origin:
            url = url.replace(server.url, origin)
        tasks.append(DownloadTask(url, tmp_path / "out" / f"{prefix}{i}.bin", {"md5": md5(data)}, len(data)))
    return tasks


def test_parallel_downloads_respect_the_per_host_limit(slow_server, tmp_path):
    tasks = tasks_for(slow_server, tmp_path, 12)
    results = download_many(tasks, workers=6, per_host=3, quiet=True)
    assert [r.path for r in results] == [t.path for t in tasks]
    assert all(r.verified == ["md5"] for r in results)
    assert slow_server.max_active == 3


def test_workers_bound_the_pool(slow_server, tmp_path):
    download_many(tasks_for(slow_server, tmp_path, 10), workers=5, quiet=True)
    assert slow_server.max_active == 5


def test_polite_hosts_get_fewer_connections_after_the_mirror_map(slow_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HISTODATA_MIRRORS", f"https://zenodo.org={slow_server.url}")
    tasks = tasks_for(slow_server, tmp_path, 10, origin="https://zenodo.org")
    download_many(tasks, workers=8, quiet=True)
    assert slow_server.max_active == 4
    assert all(t.path.exists() for t in tasks)


def test_failures_are_reported_together_after_the_rest_succeeds(fault_server, tmp_path):
    tasks = tasks_for(fault_server, tmp_path, 4)
    tasks.append(DownloadTask(fault_server.url + "/missing.bin", tmp_path / "out" / "missing.bin"))
    tasks[1].checksums = {"md5": "0" * 32}
    with pytest.raises(DownloadError) as caught:
        download_many(tasks, workers=3, quiet=True)
    error = caught.value
    assert "2 of 5 file(s) failed" in str(error)
    assert "f1.bin: " in str(error) and "md5 expected 000" in str(error) and "missing.bin: " in str(error)
    assert len(error.results) == 3 and {t.label for t, _ in error.failures} == {"f1.bin", "missing.bin"}
    assert all(tasks[i].path.exists() for i in (0, 2, 3)) and not tasks[1].path.exists()


def test_total_size_is_checked_before_anything_starts(fault_server, tmp_path):
    tasks = tasks_for(fault_server, tmp_path, 2)
    tasks.append(DownloadTask(fault_server.url + "/huge.bin", tmp_path / "out" / "huge.bin", size=10 ** 18))
    with pytest.raises(DownloadError, match="not enough free space"):
        download_many(tasks, quiet=True)
    assert fault_server.log == []


def test_ctrl_c_stops_a_batch_waiting_out_a_retry_after(fault_server, tmp_path):
    import threading

    url = fault_server.add("/busy.bin", b"x" * 1000, ["retry-after:503:600"])
    cancel = threading.Event()
    outcome = {}

    def run():
        from histodata.transfer import download
        try:
            download(url, tmp_path / "busy.bin", quiet=True, cancel=cancel)
        except BaseException as err:  # noqa: BLE001
            outcome["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    while not fault_server.requests_for("/busy.bin"):
        thread.join(0.02)
    cancel.set()
    thread.join(10)
    assert not thread.is_alive() and isinstance(outcome["error"], KeyboardInterrupt)
    assert not (tmp_path / "busy.bin").exists()

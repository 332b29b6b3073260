"""`fetch --cluster` / `fetch(client=...)` with real Dask worker processes: every byte through the
workers, the record written once by the client, per-host limits and Retry-After across the
cluster, per-sample standardize steps as tasks, and faults (a worker SIGKILLed mid-file, a worker
that cannot write the root, the client killed)."""
import json
import os
import signal
import threading
import time

import psutil
import pytest

import histodata
from helpers import md5, run_cli, start_cli
from histodata.cluster import ClusterRunner
from histodata.errors import DownloadError, HistodataError, HTTPStatusError
from histodata.layout import dataset_paths, read_record

from .conftest import serve_entry

FILES = {f"part-{n:02d}.bin": os.urandom(30_000 + n) for n in range(8)}


class ConnectionSampler:
    """Samples this (the client's) process's TCP connections to a port while a fetch runs."""

    def __init__(self, port: int):
        self.port, self.seen, self.samples = port, [], 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            self.seen += [c for c in me.net_connections(kind="tcp") if c.raddr and c.raddr.port == self.port]
            self.samples += 1
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def no_engine_here(monkeypatch):
    """The client process must not download: its engine raises if ever used (workers are other processes)."""
    from histodata.transfer import engine

    def refuse(*args, **kwargs):
        raise AssertionError("the client process ran the download engine")

    monkeypatch.setattr(engine._Download, "run", refuse)


def test_every_byte_flows_through_the_workers_and_the_client_records_once(cluster, slow_server,
                                                                          extra_registry, monkeypatch):
    serve_entry(extra_registry, slow_server, "spread", FILES)
    no_engine_here(monkeypatch)
    with ConnectionSampler(slow_server.server_address[1]) as sampler:
        report = histodata.fetch("spread", client=cluster, workers=2, quiet=True)
    paths = dataset_paths("spread")
    assert report.complete and {f.status for f in report.files} == {"downloaded"}
    assert all(paths.raw_file(name).read_bytes() == data for name, data in FILES.items())
    record = read_record(paths)
    assert sorted(record["files"]) == sorted(FILES) and record["fetch"]["complete"] is True
    assert all(record["files"][n]["verified"] == {"md5": md5(d)} for n, d in FILES.items())
    assert sampler.samples > 5 and sampler.seen == []          # no connection of the client to the data host
    assert len(slow_server.log) == len(FILES)
    # 2 workers x 4 threads could open 8 connections; the host's cluster-wide semaphore allows 2
    assert slow_server.max_active == 2
    assert not paths.partial.exists()
    assert histodata.verify("spread").ok


def test_a_retry_after_from_one_worker_pauses_every_worker(cluster, slow_server, extra_registry):
    files = {"a-first.bin": os.urandom(20_000), **{f"b-{n:02d}.bin": os.urandom(20_000) for n in range(12)}}
    serve_entry(extra_registry, slow_server, "paused", files, {"a-first.bin": ["retry-after:503:2"]})
    histodata.fetch("paused", client=cluster, workers=4, quiet=True)
    asked = next(e["time"] for e in slow_server.log if e["path"] == "/a-first.bin")
    started = [e["time"] - asked for e in slow_server.log if e["path"] != "/a-first.bin"]
    # requests already under way go on; no new one starts while the host asked to wait
    assert [round(t, 2) for t in started if 0.5 < t < 1.8] == []
    assert max(started) > 1.8                                   # the others came after the pause
    assert all(dataset_paths("paused").raw_file(n).read_bytes() == d for n, d in files.items())


def test_per_sample_standardize_steps_run_as_tasks(cluster, slow_server, extra_registry):
    slides = {"TCGA-AA-0001.svs": os.urandom(5_000), "TCGA-AA-0002.svs": os.urandom(6_000),
              "TCGA-AA-0003.svs": os.urandom(7_000)}
    serve_entry(extra_registry, slow_server, "slidesets", slides, standardize={"with": "slides"})
    histodata.fetch("slidesets", client=cluster, quiet=True)
    frame = histodata.load("slidesets").manifest
    assert sorted(frame["sample_id"]) == sorted(slides)
    sizes = dict(zip(frame["sample_id"], frame["bytes"], strict=True))
    assert sizes == {n: len(d) for n, d in slides.items()}
    pids = ClusterRunner(cluster).map(lambda _: os.getpid(), list(range(8)))
    assert len(pids) == 8 and os.getpid() not in pids          # steps ran in the worker processes


def test_errors_come_back_from_the_workers_whole(cluster):
    def fail(_):
        raise HTTPStatusError("gone", "look elsewhere", status=404, url="http://x/y")

    with pytest.raises(HTTPStatusError) as caught:
        ClusterRunner(cluster).map(fail, [1, 2])
    assert (caught.value.status, caught.value.hint, str(caught.value)) == (404, "look elsewhere",
                                                                           "gone look elsewhere")


def test_a_worker_killed_mid_file_loses_its_task_to_another_and_the_file_ends_verified(slow_server,
                                                                                       extra_registry):
    from distributed import Client, LocalCluster

    data = os.urandom(400_000)
    serve_entry(extra_registry, slow_server, "killed", {"big.bin": data},
                {"big.bin": ["trickle:100000:0.02"]})
    paths = dataset_paths("killed")
    outcome = {}
    with LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=":0") as local, \
            Client(local) as client:
        fetching = threading.Thread(target=lambda: outcome.update(
            report=histodata.fetch("killed", client=client, quiet=True)), daemon=True)
        fetching.start()
        writer = wait_for_partial(paths, 100_000)
        os.kill(writer, signal.SIGKILL)                          # the worker downloading it, mid-file
        fetching.join(120)
    assert outcome["report"].complete
    assert paths.raw_file("big.bin").read_bytes() == data
    ranges = [e["headers"].get("Range") for e in slow_server.log]
    assert len(ranges) == 2 and ranges[0] is None and int(ranges[1].split("=")[1].split("-")[0]) >= 100_000
    assert read_record(paths)["files"]["big.bin"]["verified"] == {"md5": md5(data)}
    assert not paths.partial.exists()                          # the dead worker's lock was taken over


def wait_for_partial(paths, size: int, timeout: float = 60) -> int:
    """The pid of the process writing a partial file of at least `size` bytes."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for sidecar in paths.partial.glob("*.partial.json") if paths.partial.exists() else ():
            partial = sidecar.with_name(sidecar.name[:-len(".json")])
            if partial.exists() and partial.stat().st_size >= size:
                return json.loads(sidecar.read_text())["pid"]
        time.sleep(0.05)
    raise AssertionError("no partial file grew")


def test_a_worker_that_cannot_write_the_root_is_named_with_the_path(processes, slow_server, extra_registry):
    from distributed import Client

    serve_entry(extra_registry, slow_server, "walled", {"a.bin": b"a" * 5000, "b.bin": b"b" * 6000})
    paths = dataset_paths("walled")
    processes.scheduler()
    as_root = os.geteuid() == 0
    paths.base.mkdir(parents=True)
    if not as_root:                   # (not root: no worker may write it)
        paths.base.chmod(0o500)
    processes.worker()                                          # a node that may write the root
    barred = processes.worker(barred=as_root)                  # a node whose user may not
    with Client(scheduler_file=str(processes.scheduler_file)) as client:
        client.wait_for_workers(2, timeout=60)
        address = next((a for a, pid in client.run(os.getpid).items() if pid == barred.pid), None)
        assert address is not None or not as_root
        with pytest.raises(DownloadError) as caught:
            histodata.fetch("walled", client=client, quiet=True)
        message = str(caught.value)
        assert f"the Dask worker {address if as_root else 'tcp://'}" in message
        assert str(paths.base) in message and "cannot write" in message and "--root" in message
        assert slow_server.log == []                            # refused before any download
        if as_root:
            barred.terminate()
            barred.wait(20)
            deadline = time.time() + 30
            while len(client.scheduler_info()["workers"]) > 1 and time.time() < deadline:
                time.sleep(0.2)
        else:
            paths.base.chmod(0o755)
        report = histodata.fetch("walled", client=client, quiet=True)
    assert report.complete and paths.raw_file("b.bin").read_bytes() == b"b" * 6000


def test_the_cli_on_a_scheduler_started_by_hand(processes, slow_server, extra_registry):
    serve_entry(extra_registry, slow_server, "byhand", FILES)
    processes.scheduler()
    processes.worker()
    processes.worker()
    result = run_cli("fetch", "byhand", "--cluster", processes.address(), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "8 file(s) fetched" in result.stderr
    assert run_cli("verify", "byhand").returncode == 0


def test_an_unreachable_scheduler_is_a_clear_error(extra_registry, slow_server):
    serve_entry(extra_registry, slow_server, "nowhere", {"a.bin": b"a"})
    result = run_cli("fetch", "nowhere", "--cluster", "tcp://127.0.0.1:9",
                     env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert result.returncode == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.stderr
    assert "Traceback" not in result.stderr and slow_server.log == []


def test_a_killed_client_leaves_a_root_a_rerun_continues(slow_server, extra_registry, tmp_path):
    quick = {f"q-{n}.bin": os.urandom(10_000) for n in range(4)}
    slow = os.urandom(200_000)
    serve_entry(extra_registry, slow_server, "resumed", {**quick, "z-slow.bin": slow},
                {"z-slow.bin": ["trickle:50000:0.05"]})
    paths = dataset_paths("resumed")
    client = start_cli("fetch", "resumed", "--cluster", "local:2", "--quiet", start_new_session=True)
    deadline = time.time() + 120
    while not all(paths.raw_file(n).exists() for n in quick) or not list(paths.partial.rglob("*.partial")):
        assert time.time() < deadline and client.poll() is None, "the cluster fetch made no progress"
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(client.pid, signal.SIGKILL)                      # the client and its local cluster die
    client.wait()
    assert not paths.record.exists() or "z-slow.bin" not in read_record(paths).get("files", {})
    again = run_cli("fetch", "resumed", "--quiet")
    assert again.returncode == 0, again.stderr
    assert all(len(slow_server.requests_for(f"/{n}")) == 1 for n in quick)   # verified ones kept
    assert paths.raw_file("z-slow.bin").read_bytes() == slow
    assert run_cli("verify", "resumed").returncode == 0


def test_dask_missing_is_an_install_hint(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_distributed)
    with pytest.raises(HistodataError, match=r"histodata-pathology\[dask\]"):
        histodata.fetch("bach", client="local:1")

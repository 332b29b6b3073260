"""Real Dask processes for the cluster tests: a LocalCluster of worker processes, or a scheduler and
workers started as separate processes (as on cluster nodes), and a data server to fetch from."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from emulators.entries import entry_yaml
from helpers import md5
from servers.faults import FaultServer, running

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
SETPRIV = shutil.which("setpriv") or "setpriv"


@pytest.fixture(scope="module")
def cluster():
    """A client of a LocalCluster with two worker processes (shared by a module's tests: it is slow
    to start on a busy machine). Tasks get their root and files from the client, not the env."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=4, processes=True, dashboard_address=":0") as local, \
            Client(local) as client:
        yield client


def serve_entry(extra_registry, server: FaultServer, entry_id: str, files: dict[str, bytes],
                scripts: dict | None = None, **fields) -> None:
    """An `http` entry whose files (with size and md5) the fault server serves."""
    listed = [{"name": name, "url": server.add("/" + name, data, (scripts or {}).get(name, ())),
               "size": len(data), "md5": md5(data)} for name, data in files.items()]
    extra_registry(entry_yaml(entry_id, {"kind": "http", "files": listed}, **fields))


class Processes:
    """A scheduler and workers started as processes of their own, stopped at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.started: list[subprocess.Popen] = []

    def env(self, **extra) -> dict:
        python_path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
        return {**os.environ, "PYTHONPATH": python_path, **extra}

    def scheduler(self) -> None:
        self.start([str(BIN / "dask"), "scheduler", "--scheduler-file", str(self.scheduler_file),
                    "--port", "0", "--no-dashboard", "--host", "127.0.0.1"])
        deadline = time.time() + 60
        while not self.scheduler_file.exists() or not self.scheduler_file.read_text().strip():
            assert time.time() < deadline, "the scheduler did not start"
            time.sleep(0.2)

    def worker(self, barred: bool = False) -> subprocess.Popen:
        """A worker process; `barred` (when run as root): one running as user `nobody`, as on a node
        whose user may not write the root (it may still read everything: CAP_DAC_READ_SEARCH)."""
        local = Path(tempfile.mkdtemp(prefix="histodata-worker-", dir=self.folder))
        local.chmod(0o777)
        command = [str(BIN / "dask"), "worker", "--scheduler-file", str(self.scheduler_file),
                   "--nthreads", "2", "--no-dashboard", "--no-nanny", "--local-directory", str(local),
                   "--host", "127.0.0.1"]
        if not barred:
            return self.start(command)
        command = [SETPRIV, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=+dac_read_search",
                   "--ambient-caps=+dac_read_search", *command]
        return self.start(command, env=self.env(HOME=str(local)))

    def start(self, command, env=None, **options) -> subprocess.Popen:
        process = subprocess.Popen(command, env=env or self.env(), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd="/", **options)
        self.started.append(process)
        return process

    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def stop(self) -> None:
        for process in reversed(self.started):
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def processes(tmp_path):
    started = Processes(tmp_path)
    yield started
    started.stop()


@pytest.fixture
def slow_server():
    """A data server that answers each request after 0.2 s (so downloads overlap)."""
    with running(delay=0.2) as server:
        yield server

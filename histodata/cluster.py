"""Fetch on a Dask cluster: `histodata fetch ID --cluster ADDRESS`, `histodata.fetch(ID, client=...)`.

The client lists and selects once (the pipeline, as on one machine). Here each unit of work (a
file; for `idc`, a whole series) becomes a task that a worker runs with the same download engine,
into the same root (a folder every worker sees, at the same path), verified there; the results
come back and the client writes the dataset record once. The client itself requests no byte of a
file from the data hosts.

Politeness holds across the cluster: one `distributed.Semaphore` per host (after the mirror map)
bounds the downloads of every worker together, with the limits of `transfer.batch.host_limit`;
a `Retry-After` one worker receives is published in the scheduler's metadata, and every worker
waits it out before its next request to that host (clocks of the nodes are assumed in sync).

Faults: a worker that dies mid-file (SIGKILL, a pre-empted node) loses its task to another worker
(Dask reschedules it), whose download claims or restarts the partial file (see
`transfer.partial`): never a wrong final file. A client that dies leaves verified files and
partials on disk; a rerun records the files and resumes the rest. A worker that cannot write the
root is named, with the path, before any download starts.

Per-sample standardize steps run as tasks too (`Context.map`, `ClusterRunner.map`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .constants import install_command
from .errors import DownloadError, HistodataError
from .http import new_session
from .layout import DatasetPaths
from .shards import units
from .sources import kind_download
from .sources.dispatch import combined_error, remove_bookkeeping
from .transfer import download
from .transfer.batch import DEFAULT_WORKERS, host_limit
from .transfer.retry import RetryPolicy

log = logging.getLogger(__name__)

LOCAL = re.compile(r"local(?::(\d+))?")
LOCAL_WORKERS = 2            # `--cluster local`: worker processes
THREADS_PER_WORKER = 4       # tasks one worker process runs at once (downloads wait on the network)
CHUNKS_PER_WORKER = 4        # a standardize step's items go in about this many chunks per worker
PAUSE_KEY = "histodata-pause"


def import_distributed():
    try:
        import distributed  # optional: the `dask` extra
    except ImportError:
        raise HistodataError("running on a Dask cluster needs Dask distributed, which is not installed.",
                             f"Install it: {install_command('dask')}") from None
    return distributed


@contextlib.contextmanager
def open_runner(client):
    """A `ClusterRunner` for `client`: a `distributed.Client`, or an address (`tcp://host:8786`,
    `local`, `local:N`), opened here and closed after; None gives None (run on this machine)."""
    if client is None:
        yield None
        return
    if not isinstance(client, str):
        yield ClusterRunner(client)
        return
    distributed = import_distributed()
    address = client.strip()
    local = LOCAL.fullmatch(address)
    if local:
        workers = int(local.group(1) or LOCAL_WORKERS)
        with distributed.LocalCluster(n_workers=max(1, workers), threads_per_worker=THREADS_PER_WORKER,
                                      processes=True, dashboard_address=":0") as cluster, \
                distributed.Client(cluster) as opened:
            yield ClusterRunner(opened)
        return
    try:
        opened = distributed.Client(address)        # waits distributed.comm.timeouts.connect (30 s)
    except (OSError, TimeoutError, ValueError) as err:
        raise DownloadError(f"cannot reach the Dask scheduler at {address}: {err}.",
                            "Check the address (tcp://HOST:8786) and that `dask scheduler` runs there, "
                            "or use --cluster local:N for worker processes on this machine.") from None
    with opened:
        yield ClusterRunner(opened)


@dataclass
class ClusterRunner:
    """Runs a fetch's downloads and a standardizer's per-sample steps on the cluster of `client`."""

    client: object

    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    # -- downloads ---------------------------------------------------------------------------
    def download(self, remotes: list, paths: DatasetPaths, workers: int | None = None,
                 quiet: bool | None = None) -> tuple[list, HistodataError | None]:
        """As `sources.dispatch.download_remotes`: (pairs of remote and result, the error or None)."""
        check_root(self.client, paths)
        by_name = {remote.name: remote for remote in remotes}
        groups = units(remotes)
        run = uuid.uuid4().hex[:8]
        keys = [f"histodata-download-{paths.id}-{run}-{number}" for number in range(len(groups))]
        futures = self.client.map(download_unit, groups, paths=paths, per_host=workers or DEFAULT_WORKERS,
                                  key=keys, pure=False)
        done, errors = [], []
        distributed = import_distributed()
        finished = 0
        for future in distributed.as_completed(futures):
            finished += 1
            try:
                outcomes = future.result()
            except HistodataError as err:
                errors.append(err)
                continue
            except Exception as err:  # noqa: BLE001 - a task lost for good (e.g. its workers kept dying)
                why = f"{type(err).__name__}: {err}"
                errors.append(DownloadError(f"a download task failed on the cluster: {why}",
                                            "Run the same command again (finished files are kept)."))
                continue
            for name, outcome in outcomes:
                if isinstance(outcome, HistodataError):
                    errors.append(outcome)
                else:
                    done.append((by_name[name], outcome))
            log.info("%d of %d download task(s) finished on the cluster", finished, len(futures))
        remove_bookkeeping(paths, [remote.name for remote, _ in done])
        return done, combined_error(errors)

    # -- standardize steps -------------------------------------------------------------------
    def map(self, function, items: list) -> list:
        """`[function(x) for x in items]` as tasks (in chunks), order kept."""
        items = list(items)
        if not items:
            return []
        count = min(len(items), self.workers() * CHUNKS_PER_WORKER)
        chunks = [items[i::count] for i in range(count)]
        futures = self.client.map(run_chunk, chunks, function=function, pure=False)
        results = self.client.gather(futures)
        ordered: list = [None] * len(items)
        for offset, chunk in enumerate(results):
            ordered[offset::count] = chunk
        return ordered


def run_chunk(chunk: list, function) -> list:
    return [function(item) for item in chunk]


# ----------------------------------------------------------------------------- on a worker
def check_root(client, paths: DatasetPaths) -> None:
    """Every worker must write the dataset's folders: else an error naming the worker and path."""
    folders = [str(paths.raw), str(paths.partial)]
    answers = client.run(probe_folders, folders)
    refused = [(worker, answer) for worker, answer in sorted(answers.items()) if answer[1]]
    if refused:
        worker, (host, problem) = refused[0]
        more = f" ({len(refused) - 1} other worker(s) too)" if len(refused) > 1 else ""
        raise DownloadError(f"the Dask worker {worker} on {host} cannot write {problem}{more}.",
                            "The root must be one folder every worker writes, at the same path (a shared "
                            "file system): mount it on that node, fix its permissions, or choose another "
                            "--root.")


def probe_folders(folders: list[str]) -> tuple[str, str | None]:
    """(this host's name, None or 'PATH: why') after creating and removing a file in each folder."""
    for folder in folders:
        probe = Path(folder) / f".probe-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            return socket.gethostname(), f"{folder}: {err.strerror or err}"
    return socket.gethostname(), None


def download_unit(remotes: list, paths: DatasetPaths, per_host: int) -> list:
    """A task: download a unit's files into the root; [(name, DownloadResult or HistodataError)]."""
    session = new_session(pool_size=4)
    outcomes = []
    for remote in remotes:
        try:
            outcomes.append((remote.name, download_one(remote, paths, session, per_host)))
        except HistodataError as err:
            outcomes.append((remote.name, err))
    return outcomes


def download_one(remote, paths: DatasetPaths, session, per_host: int):
    target = paths.raw_file(remote.name)
    work_dir = paths.work_dir(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        why = err.strerror or err
        raise DownloadError(f"the Dask worker {worker_name()} cannot write {target.parent}: {why}.",
                            "The root must be writable from every worker.") from None
    host, limit = host_limit(session, remote.url, per_host)
    with host_slot(host, limit):
        wait_out_pause(host)
        if remote.downloader:
            return kind_download(remote.downloader)(remote, target, session, quiet=True, work_dir=work_dir)
        return download(remote.url, target, dict(remote.checksums), remote.size, dict(remote.headers),
                        session=session, quiet=True, policy=SharedPausePolicy.for_host(host),
                        work_dir=work_dir)


def worker_name() -> str:
    try:
        from distributed import get_worker  # optional: the `dask` extra (present on a worker)

        return f"{get_worker().address} on {socket.gethostname()}"
    except (ImportError, ValueError):
        return f"process {os.getpid()} on {socket.gethostname()}"


_SEMAPHORES: dict[str, object] = {}
_SEMAPHORES_GUARD = threading.Lock()


def host_slot(host: str, limit: int):
    """One of the `limit` leases of `host` shared by every worker of the cluster."""
    distributed = import_distributed()
    name = f"histodata-host-{host}-{limit}"
    with _SEMAPHORES_GUARD:
        if name not in _SEMAPHORES:
            _SEMAPHORES[name] = distributed.Semaphore(max_leases=limit, name=name)
        return _SEMAPHORES[name]


def _metadata_client():
    from distributed import get_client  # optional: the `dask` extra (present on a worker)

    return get_client()


def pause_left(host: str) -> float:
    """Seconds left of a pause some worker was asked for by `host` (Retry-After)."""
    try:
        until = float(_metadata_client().get_metadata([PAUSE_KEY, host], default=0.0))
    except (ValueError, TypeError, OSError):
        return 0.0
    return max(0.0, until - time.time())


def announce_pause(host: str, seconds: float) -> None:
    """Tell every worker that `host` asked to wait `seconds` (the latest end wins)."""
    with contextlib.suppress(ValueError, OSError):
        until = time.time() + seconds
        if until > time.time() + pause_left(host):
            _metadata_client().set_metadata([PAUSE_KEY, host], until)


def wait_out_pause(host: str) -> None:
    left = pause_left(host)
    if left > 0:
        log.info("%s asked the cluster to wait; waiting %.1f s", host, left)
        time.sleep(left)


@dataclass(frozen=True)
class SharedPausePolicy(RetryPolicy):
    """The retry policy, with a host's Retry-After shared by the whole cluster: announced when
    received, and waited out by every retry of any worker to that host."""

    host: str = ""

    @classmethod
    def for_host(cls, host: str) -> SharedPausePolicy:
        base = RetryPolicy.from_env()
        return cls(tries=base.tries, backoff=base.backoff, max_delay=base.max_delay,
                   max_retry_after=base.max_retry_after, host=host)

    def delay(self, failed_attempts: int, retry_after: float | None = None) -> float:
        own = super().delay(failed_attempts, retry_after)
        if retry_after is not None and retry_after <= self.max_retry_after:
            announce_pause(self.host, retry_after)
        return max(own, pause_left(self.host))

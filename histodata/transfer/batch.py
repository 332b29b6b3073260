"""Many downloads: a bounded thread pool, a per-host limit, one progress display, one error."""
from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import BatchError, HistodataError, failure_summary
from ..http import new_session
from .engine import download, ensure_free_space
from .models import DownloadResult, DownloadTask
from ..progress import TransferDisplay
from .retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 4
# Hosts that ask for restraint get at most this many parallel downloads whatever --workers says.
POLITE_LIMITS = {"zenodo.org": 4, "drive.google.com": 2, "drive.usercontent.google.com": 2,
                 "docs.google.com": 2, "figshare.com": 2, "ndownloader.figshare.com": 2}


class HostLimits:
    """One semaphore per host (after the mirror map), so no host gets more than its share."""

    def __init__(self, session, per_host: int):
        self._session, self._per_host = session, per_host
        self._semaphores: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def slot(self, url: str) -> threading.Semaphore:
        host, limit = host_limit(self._session, url, self._per_host)
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(limit)
            return self._semaphores[host]


def host_limit(session, url: str, per_host: int) -> tuple[str, int]:
    """(the host a URL's bytes come from, after the mirror map; the most parallel downloads it
    gets): `per_host`, or less for hosts that ask for restraint. Also the cluster-wide rule."""
    original = (urlsplit(url).hostname or "").lower()
    mapped = session.map_url(url) if hasattr(session, "map_url") else url
    return urlsplit(mapped).netloc.lower(), max(1, min(per_host, POLITE_LIMITS.get(original, per_host)))


def download_many(tasks, workers: int = DEFAULT_WORKERS, per_host: int | None = None,
                  quiet: bool | None = None, session=None) -> list[DownloadResult]:
    """Download every task (in parallel), then raise one BatchError naming each failure
    (its `failures` are (DownloadTask, error) pairs, its `results` the files that arrived).

    Results come back in the order of `tasks`. Ctrl-C stops every download and keeps the partial
    files for the next run.
    """
    tasks = list(tasks)
    workers = max(1, int(workers or DEFAULT_WORKERS))
    session = session or new_session(pool_size=max(16, workers))
    limits = HostLimits(session, per_host or workers)
    policy = RetryPolicy.from_env()
    check_total_space(tasks)
    cancel = threading.Event()
    outcomes: list = [None] * len(tasks)

    def run(index: int, task: DownloadTask) -> None:
        with limits.slot(task.url):
            if cancel.is_set():
                return
            try:
                outcomes[index] = download(task.url, task.path, task.checksums, task.size, task.headers,
                                           session=session, allow_html=task.allow_html, policy=policy,
                                           display=display, cancel=cancel,
                                           work_dir=task.work_dir)
            except HistodataError as error:
                outcomes[index] = error

    total = sum(t.size for t in tasks) if all(t.size is not None for t in tasks) else None
    with TransferDisplay(quiet, files=len(tasks), total_bytes=total) as display, \
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="download") as pool:
        futures = [pool.submit(run, i, task) for i, task in enumerate(tasks)]
        try:
            for future in futures:
                future.result()
        except BaseException:
            cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return _collect(tasks, outcomes)


def _collect(tasks: list[DownloadTask], outcomes: list) -> list[DownloadResult]:
    results = [o for o in outcomes if isinstance(o, DownloadResult)]
    failures = [(t, o) for t, o in zip(tasks, outcomes, strict=True) if not isinstance(o, DownloadResult)]
    if not failures:
        return results
    summary = failure_summary([(task.label, error) for task, error in failures])
    raise BatchError(f"{len(failures)} of {len(tasks)} file(s) failed to download: {summary}.",
                     f"The {len(results)} verified file(s) are in place; run the same command "
                     "again to retry the rest (partial files resume).", failures=failures, results=results)


def check_total_space(tasks: list[DownloadTask]) -> None:
    """Fail before starting when the known sizes do not fit on their file systems."""
    needed: dict[int, tuple[Path, int]] = defaultdict(lambda: (Path("."), 0))
    for task in tasks:
        if task.size is None:
            continue
        folder = _existing_parent(Path(task.path).expanduser().absolute())
        device = os.stat(folder).st_dev
        needed[device] = (folder, needed[device][1] + task.size)
    for folder, total in needed.values():
        ensure_free_space(folder, total)


def _existing_parent(path: Path) -> Path:
    for parent in path.parents:
        if parent.exists():
            return parent
    return Path(".")

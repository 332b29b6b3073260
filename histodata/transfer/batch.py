"""Many downloads: a bounded thread pool, a per-host limit, one progress display, one error."""
from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import BatchError, HistodataError, failure_summary
from ..http import new_session
from .engine import download, ensure_free_space, wanted_connections
from .hosts import POLITE_LIMITS, HostLimits, host_limit  # noqa: F401  (HostLimits and POLITE_LIMITS lived here)
from .models import DownloadResult, DownloadTask
from ..progress import TransferDisplay
from .retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 4
def download_many(tasks, workers: int = DEFAULT_WORKERS, per_host: int | None = None,
                  quiet: bool | None = None, session=None,
                  connections: int | None = None) -> list[DownloadResult]:
    """Download every task (in parallel), then raise one BatchError naming each failure
    (its `failures` are (DownloadTask, error) pairs, its `results` the files that arrived).
    A large file takes up to `connections` connections (default: $HISTODATA_CONNECTIONS or 8), and
    every connection counts against its host's limit.

    Results come back in the order of `tasks`. Ctrl-C stops every download and keeps the partial
    files for the next run.
    """
    tasks = list(tasks)
    workers = max(1, int(workers or DEFAULT_WORKERS))
    session = session or new_session(pool_size=max(16, workers), connections=connections)
    connections = wanted_connections(connections, session)
    limits = HostLimits(session, per_host or workers, connections)
    policy = RetryPolicy.from_env()
    check_total_space(tasks)
    cancel = threading.Event()
    outcomes: list = [None] * len(tasks)

    def run(index: int, task: DownloadTask) -> None:
        with limits.slot(task.url):
            slots = limits.connections(task.url)
            slots.take(1, block=True)          # this file's own connection
            try:
                if cancel.is_set():
                    return
                outcomes[index] = download(task.url, task.path, task.checksums, task.size, task.headers,
                                           session=session, allow_html=task.allow_html, policy=policy,
                                           display=display, cancel=cancel, work_dir=task.work_dir,
                                           connections=connections, slots=slots)
            except HistodataError as error:
                outcomes[index] = error
            finally:
                slots.give(1)

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

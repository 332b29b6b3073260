"""Waiting for a file lock: said once, and never forever on a folder that vanished meanwhile."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5      # how often a waiting process looks again (and checks that the folder exists)
MAX_VANISHED = 5        # the lock's folder removed this often while waiting: give up (an OSError)


def acquire(lock, waiting: str) -> None:
    """Take `lock` (a `filelock.FileLock`): at once when free, else log `waiting` once and wait.

    When the lock's folder is removed while we wait (another process cleaned it up, or a person
    deleted the dataset), the folder is created again and the wait goes on, instead of hanging on a
    lock file that can no longer exist; a folder that keeps vanishing raises FileNotFoundError.
    Other OSErrors (a folder we cannot write in) are raised for the caller to explain."""
    from filelock import Timeout  # heavy: filelock, imported on first use

    folder = Path(lock.lock_file).parent
    warned, vanished = False, 0
    while True:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            lock.acquire(timeout=POLL_SECONDS if warned else 0)
            return
        except Timeout:      # (a kind of OSError: caught first)
            if not warned:
                log.warning("%s", waiting)
                warned = True
        except FileNotFoundError:
            vanished += 1
            if vanished > MAX_VANISHED:
                raise
            log.debug("the folder of %s vanished while waiting; creating it again", lock.lock_file)

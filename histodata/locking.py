"""Waiting for a file lock: said once, and never forever on a folder that vanished meanwhile; and a
lock that holds on a shared file system (`SharedLock`: an O_EXCL owner file with a heartbeat)."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
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


# ----------------------------------------------------------------------------- shared file systems
HEARTBEAT_SECONDS = 10.0   # how often a holder refreshes its owner file's time
STALE_SECONDS = 180.0      # an owner file not refreshed this long has lost its holder (another node;
#                            more than NFS's attribute cache, acregmax 60 s, plus clock skew)
OWNER_SUFFIX = ".owner"


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (True when unsure)."""
    if os.name == "nt":   # os.kill(pid, 0) would interrupt the process there: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class _Heartbeat:
    """One daemon thread refreshing the time of every owner file this process holds."""

    def __init__(self):
        self._held: set[str] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, path: str) -> None:
        with self._guard:
            self._held.add(path)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="histodata-heartbeat", daemon=True)
                self._thread.start()

    def remove(self, path: str) -> None:
        with self._guard:
            self._held.discard(path)

    def _run(self) -> None:
        while True:
            time.sleep(HEARTBEAT_SECONDS)
            with self._guard:
                held = list(self._held)
            for path in held:
                try:
                    os.utime(path)
                except OSError:
                    pass     # taken over or removed: its holder finds out when it releases


HEARTBEAT = _Heartbeat()


class SharedLock:
    """A lock that also holds on a shared file system whose `flock` is not honoured across nodes
    (NFS, Lustre): the kernel lock (`filelock.FileLock` on `path`) where it works, plus an owner
    file `<path>.owner` created with O_EXCL (atomic on NFSv3+, Lustre, GPFS) holding the owner's
    host, pid and a token; a heartbeat refreshes its time while the lock is held. A process that
    finds an owner file waits, unless its owner is gone: a process of this host that no longer
    runs, or (any host) no heartbeat for `stale` seconds; then the file is taken over.

    `acquire(timeout)` / `release()` as `filelock.FileLock` (raising `filelock.Timeout`), so
    `acquire(lock, waiting)` above takes it too."""

    def __init__(self, path, stale: float | None = None):
        from filelock import FileLock  # heavy: filelock, imported on first use

        self.lock_file = str(path)
        self.owner_file = self.lock_file + OWNER_SUFFIX
        self.stale = STALE_SECONDS if stale is None else stale
        self._kernel = FileLock(self.lock_file)
        self._token = ""

    @property
    def is_locked(self) -> bool:
        return bool(self._token)

    def acquire(self, timeout: float = -1) -> None:
        from filelock import Timeout  # heavy: filelock, imported on first use

        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        self._kernel.acquire(timeout=timeout)
        try:
            while not self._create_owner():
                if self._take_over_stale():
                    continue
                if deadline is not None and time.monotonic() >= deadline:
                    raise Timeout(self.lock_file)
                left = POLL_SECONDS if deadline is None else deadline - time.monotonic()
                time.sleep(max(0.01, min(POLL_SECONDS, left)))
        except BaseException:
            self._kernel.release()
            raise
        HEARTBEAT.add(self.owner_file)

    def release(self) -> None:
        if not self._token:
            return
        HEARTBEAT.remove(self.owner_file)
        if (read_owner(self.owner_file) or {}).get("token") == self._token:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.owner_file)
        else:
            log.warning("the lock %s was taken over by another process while held here (no heartbeat "
                        "for %.0f s?)", self.owner_file, self.stale)
        self._token = ""
        self._kernel.release()

    def __enter__(self) -> "SharedLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _create_owner(self) -> bool:
        token = secrets.token_hex(8)
        try:
            fd = os.open(self.owner_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        except FileNotFoundError:     # the folder was removed meanwhile (a cleanup): make it again
            Path(self.owner_file).parent.mkdir(parents=True, exist_ok=True)
            return False
        try:
            os.write(fd, json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "token": token,
                                     "since": time.time()}).encode())
        finally:
            os.close(fd)
        self._token = token
        return True

    def _take_over_stale(self) -> bool:
        """Move away an owner file whose holder is gone; True when one was (try again at once).
        Renaming is atomic: of two processes taking over at once, one moves it; a fresh owner file
        moved by mistake (its holder came between the check and the move) is linked back."""
        owner = read_owner(self.owner_file)
        if not owner_is_gone(self.owner_file, owner, self.stale):
            return False
        aside = f"{self.owner_file}.{os.getpid()}-{secrets.token_hex(4)}.stale"
        try:
            os.rename(self.owner_file, aside)
        except FileNotFoundError:
            return True
        moved = read_owner(aside)
        if (moved or {}).get("token") != (owner or {}).get("token"):
            with contextlib.suppress(FileExistsError, FileNotFoundError):
                os.link(aside, self.owner_file)      # not the stale one: put it back
        with contextlib.suppress(FileNotFoundError):
            os.unlink(aside)
        log.info("took over the lock %s from %s", self.lock_file,
                 f"process {owner.get('pid')} on {owner.get('host')}" if owner else "an unknown owner")
        return True


def read_owner(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as handle:
            owner = json.load(handle)
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def owner_is_gone(path: str, owner: dict | None, stale: float) -> bool:
    """True when the owner file's holder no longer runs (this host) or stopped its heartbeat."""
    try:
        age = time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if owner is not None and owner.get("host") == socket.gethostname() and isinstance(owner.get("pid"), int) \
            and owner["pid"] != os.getpid() and not pid_alive(owner["pid"]):
        return True
    return age > stale

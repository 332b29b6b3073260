"""The partial file of one target: a lock, this process's own temporary name, resumable state.

These bookkeeping files live in a work folder: beside the target by default, or in a folder the
caller gives (a dataset's `.partial/`, so `raw/` holds the dataset's files only and a listed file
can never be taken for bookkeeping). Layout in the work folder, for the target `<dir>/<name>`:

* `.<name>.lock` — a `filelock` lock held while this process works on the target, and
  `.<name>.lock.owner` — its owner file (host, pid, heartbeat), which holds where flock does not
  (a root on NFS or Lustre shared by many nodes; see `histodata.locking.SharedLock`);
* `.<name>.<pid>-<random>.partial` — bytes received so far, written only by its owner;
* `.<name>.<pid>-<random>.partial.json` — what the bytes are: url, validators, expectations.

A leftover partial (a crash, `kill -9`, Ctrl-C, a full disk) is claimed by the next run with an
atomic rename into its own name, so even with a broken lock two processes never share bytes. With a
separate work folder, partials an older version left beside the target are claimed from there too
(only those whose sidecar describes them; nothing else beside the target is touched).
"""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import DownloadError
from ..locking import SharedLock, acquire, pid_alive

log = logging.getLogger(__name__)

SUFFIX = ".partial"
STALE_SECONDS = 120  # a partial untouched this long has no live writer
_TOKEN = re.compile(r"[0-9]+-[0-9a-f]{8}")


@dataclass
class PartialState:
    """What the bytes of a partial file are (the sidecar JSON)."""

    url: str
    size: int | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    total: int | None = None   # the whole file's size as the server first announced it
    segments: list | None = None  # a segmented download's pieces: [[start, end, bytes written], ...]
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    def compatible_with(self, other: "PartialState") -> bool:
        """Same URL and no contradicting expected size or checksum."""
        if self.url != other.url:
            return False
        if None not in (self.size, other.size) and self.size != other.size:
            return False
        return all(other.checksums.get(k, v) == v for k, v in self.checksums.items())


def _read_state(path: Path) -> PartialState | None:
    try:
        return PartialState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _possibly_active(partial: Path, state: PartialState) -> bool:
    """True when another live process may still be writing `partial` (only with a broken lock)."""
    try:
        recent = time.time() - partial.stat().st_mtime < STALE_SECONDS
    except OSError:
        return False
    if not recent or state.pid == os.getpid() and state.host == socket.gethostname():
        return False
    return state.host != socket.gethostname() or pid_alive(state.pid)


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def lock_path(target: Path, work_dir: Path | None = None) -> Path:
    """The lock file of `target` in its work folder (default: beside it)."""
    return (target.parent if work_dir is None else Path(work_dir)) / f".{target.name}.lock"


def has_partial(target: Path, work_dir: Path | None = None) -> bool:
    """True when a partial of `target` is kept in its work folder (a resume is pending)."""
    return bool(_partials_in(target.parent if work_dir is None else Path(work_dir), target.name))


def _partials_in(folder: Path, name: str) -> list[tuple[Path, PartialState | None]]:
    prefix = f".{name}."
    found = []
    for partial in folder.glob(glob.escape(prefix) + "*" + SUFFIX):
        if not _TOKEN.fullmatch(partial.name[len(prefix):-len(SUFFIX)]):
            continue  # the partial of another target whose name starts like ours
        found.append((partial, _read_state(partial.with_name(partial.name + ".json"))))
    return found


class Partial:
    """Context manager: holds the target's lock; owns one partial file and its sidecar."""

    def __init__(self, target: Path, state: PartialState, work_dir: Path | None = None):
        self.target = target
        self.state = state
        self.folder = Path(work_dir) if work_dir is not None else target.parent
        token = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.path = self.folder / f".{target.name}.{token}{SUFFIX}"
        self.sidecar = self.path.with_name(self.path.name + ".json")
        self._lock = SharedLock(lock_path(target, self.folder))

    # -- lock -------------------------------------------------------------------------------
    def __enter__(self) -> "Partial":
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self.folder.mkdir(parents=True, exist_ok=True)
            self._acquire()
        except OSError as err:
            where = self.target.parent if self.folder == self.target.parent else self.folder
            raise DownloadError(f"cannot write in {where}: {err.strerror or err}.",
                                "Check that the folder is writable, or choose another target.") from None
        try:
            self._claim_leftover()
            self.path.touch()
            self.save()
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._lock.release()

    def _acquire(self) -> None:
        acquire(self._lock, f"waiting for another histodata process downloading {self.target}")

    # -- state ------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def save(self) -> None:
        """Write the sidecar atomically (a kill never leaves half a JSON)."""
        tmp = self.sidecar.with_name(self.sidecar.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self.state)))
        os.replace(tmp, self.sidecar)

    def restart(self) -> None:
        """Forget the bytes (the server ignored Range or the file changed upstream)."""
        self.path.write_bytes(b"")
        self.state.etag = self.state.last_modified = self.state.total = self.state.segments = None
        self.save()

    def commit(self) -> None:
        """Move the verified bytes under the final name, atomically."""
        try:
            os.replace(self.path, self.target)
        except OSError as err:
            if err.errno != errno.EXDEV:
                raise
            # the work folder is on another file system: copy beside the target, then rename
            beside = self.target.with_name(self.path.name)
            try:
                shutil.copyfile(self.path, beside)
                os.replace(beside, self.target)
            finally:
                _remove(beside)
            _remove(self.path)
        _remove(self.sidecar)

    def discard(self) -> None:
        _remove(self.path, self.sidecar)

    def discard_if_empty(self) -> None:
        """Drop a partial with nothing worth keeping for a resume."""
        if not self.size:
            self.discard()

    # -- leftovers ----------------------------------------------------------------------------
    def _leftovers(self) -> list[tuple[Path, PartialState | None]]:
        found = _partials_in(self.folder, self.target.name)
        if self.folder != self.target.parent:   # an older version kept them beside the target
            beside = _partials_in(self.target.parent, self.target.name)
            found += [(partial, state) for partial, state in beside if state is not None]
        return found

    def _claim_leftover(self) -> None:
        """Take over the largest compatible leftover partial; delete the unusable ones."""
        usable = []
        for partial, state in self._leftovers():
            if state is not None and _possibly_active(partial, state):
                log.warning("leaving %s alone: process %s on %s may still write it", partial, state.pid,
                            state.host)
                continue
            if state is not None and state.compatible_with(self.state):
                with contextlib.suppress(FileNotFoundError):
                    usable.append((partial.stat().st_size, partial, state))
            else:
                _remove(partial, partial.with_name(partial.name + ".json"))
        usable.sort(key=lambda item: item[0], reverse=True)
        for number, (_size, partial, state) in enumerate(usable):
            if number == 0 and self._take(partial):
                self.state.etag, self.state.last_modified = state.etag, state.last_modified
                self.state.total, self.state.segments = state.total, state.segments
            else:
                _remove(partial, partial.with_name(partial.name + ".json"))

    def _take(self, partial: Path) -> bool:
        try:
            os.rename(partial, self.path)
        except FileNotFoundError:  # someone else claimed it first
            return False
        except OSError as err:     # an older partial on another file system: restart instead
            log.debug("cannot claim %s (%s)", partial, err.strerror)
            return False
        _remove(partial.with_name(partial.name + ".json"))
        log.debug("resuming from %s (%d bytes)", partial.name, self.size)
        return True

"""Hash while streaming: every expected algorithm plus sha256, each in its own thread.

hashlib releases the GIL on large buffers, so md5 and sha256 run on separate cores while the
main thread reads the socket and writes the file: one pass, no re-read of the finished file.
"""
from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..constants import CHECKSUM_ALGORITHMS
from ..errors import DownloadError

CHUNK = 1 << 20          # at most this many bytes per read, write and hash update
LOCAL_ALGORITHM = "sha256"  # always computed, for the local record
_HEX = re.compile(r"^[0-9a-f]+$")
_QUEUE_DEPTH = 32        # chunks waiting per hasher: bounds memory to CHUNK * _QUEUE_DEPTH


def normalize_checksums(checksums: dict[str, str] | None) -> dict[str, str]:
    """{"MD5": "md5:ABC.."} -> {"md5": "abc.."}; raises DownloadError for unknown algorithms or bad hex."""
    normalized = {}
    for algorithm, value in (checksums or {}).items():
        name = algorithm.lower().replace("-", "")
        digest = str(value).strip().lower()
        if digest.startswith(f"{name}:"):
            digest = digest.split(":", 1)[1]
        if name not in hashlib.algorithms_available:
            raise DownloadError(f"unknown checksum algorithm {algorithm!r}.",
                                f"Use {', '.join(CHECKSUM_ALGORITHMS)}.")
        expected_len = hashlib.new(name).digest_size * 2
        if not _HEX.match(digest) or len(digest) != expected_len:
            raise DownloadError(f"invalid {name} checksum {value!r}: expected {expected_len} hex digits.")
        normalized[name] = digest
    return normalized


class _HashWorker(threading.Thread):
    """One algorithm fed from a bounded queue; None ends the stream."""

    def __init__(self, algorithm: str):
        super().__init__(daemon=True, name=f"hash-{algorithm}")
        self.hash = hashlib.new(algorithm)
        self.inbox: queue.Queue = queue.Queue(maxsize=_QUEUE_DEPTH)

    def run(self) -> None:
        while (chunk := self.inbox.get()) is not None:
            self.hash.update(chunk)


class StreamHasher:
    """Feed chunks with `update`; `hexdigests()` ends the threads and returns {algorithm: hex}."""

    def __init__(self, algorithms):
        names = dict.fromkeys([*algorithms, LOCAL_ALGORITHM])
        self._workers = [_HashWorker(name) for name in names]
        for worker in self._workers:
            worker.start()
        self._digests: dict[str, str] | None = None

    def update(self, chunk: bytes) -> None:
        for worker in self._workers:
            worker.inbox.put(chunk)

    def hexdigests(self) -> dict[str, str]:
        if self._digests is None:
            for worker in self._workers:
                worker.inbox.put(None)
            for worker in self._workers:
                worker.join()
            self._digests = {w.hash.name: w.hash.hexdigest() for w in self._workers}
        return self._digests

    close = hexdigests  # ending the threads is all a close needs

    def update_from_file(self, path: Path, length: int) -> None:
        """Hash the first `length` bytes of `path` (a kept partial), one sequential read."""
        remaining = length
        with open(path, "rb") as handle:
            while remaining > 0:
                chunk = handle.read(min(CHUNK, remaining))
                if not chunk:
                    raise DownloadError(f"{path} is shorter than expected while re-hashing it.")
                self.update(chunk)
                remaining -= len(chunk)


def mismatches(expected: dict[str, str], got: dict[str, str]) -> list[str]:
    """'md5 expected abc got def' for every algorithm that differs."""
    return [f"{name} expected {value} got {got.get(name)}"
            for name, value in expected.items() if got.get(name) != value]


@dataclass
class FileCheck:
    """What `check_file` found: the file's size, its digests, and what differs from the expected."""

    size: int
    digests: dict[str, str]           # every expected algorithm + sha256 (empty when the size was wrong)
    problems: list[str]               # "size expected X got Y", "md5 expected a got b"
    failed: list[str] = field(default_factory=list)   # what differs: "size" and/or algorithm names

    @property
    def ok(self) -> bool:
        return not self.problems


def check_file(path, expected: dict[str, str] | None = None, size: int | None = None, *,
               progress: Callable[[int], object] | None = None) -> FileCheck:
    """Check a file on disk against an expected `size` and checksums ({"md5": hex, ...}).

    The one place that hashes a finished file and compares it (as pooch's `hash_matches`): one read
    of the file, every expected algorithm plus sha256 at once (StreamHasher). A wrong size is
    reported without reading the file. `progress(nbytes)` is called per chunk read, for a progress
    display. Raises DownloadError for an unknown algorithm or a malformed checksum, OSError when the
    file cannot be read.
    """
    path = Path(path)
    wanted = normalize_checksums(expected)
    actual = path.stat().st_size
    if size is not None and size != actual:
        return FileCheck(actual, {}, [f"size expected {size} got {actual}"], ["size"])
    hasher = StreamHasher(list(wanted))
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                hasher.update(chunk)
                if progress is not None:
                    progress(len(chunk))
    finally:
        digests = hasher.hexdigests()
    failed = [name for name, value in wanted.items() if digests.get(name) != value]
    return FileCheck(actual, digests, mismatches(wanted, digests), failed)

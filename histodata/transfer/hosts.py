"""How many connections each host gets: files in parallel, and the segments of one large file.

Every connection to a host (a whole file's, or one more segment of a large file) takes a token from
that host's `ConnectionSlots`; a file waits for its first token, a segmented download takes extra
tokens only when they are free. Hosts that ask for restraint (POLITE_LIMITS) get fewer tokens.
"""
from __future__ import annotations

import threading
from urllib.parse import urlsplit

# Hosts that ask for restraint get at most this many connections whatever --workers/--connections say.
POLITE_LIMITS = {"zenodo.org": 4, "drive.google.com": 2, "drive.usercontent.google.com": 2,
                 "docs.google.com": 2, "figshare.com": 2, "ndownloader.figshare.com": 2}


def polite_limit(url: str, wanted: int) -> int:
    """`wanted`, capped for a host on the polite list (by the URL as the program asked for it)."""
    host = (urlsplit(url).hostname or "").lower()
    return max(1, min(wanted, POLITE_LIMITS.get(host, wanted)))


def host_limit(session, url: str, per_host: int) -> tuple[str, int]:
    """(the host a URL's bytes come from, after the mirror map; the most parallel downloads it
    gets): `per_host`, or less for hosts that ask for restraint. Also the cluster-wide rule."""
    mapped = session.map_url(url) if hasattr(session, "map_url") else url
    return urlsplit(mapped).netloc.lower(), polite_limit(url, per_host)


class ConnectionSlots:
    """A count of free connections to one host: `take(n)` (blocking for the first one if asked),
    `give(n)` to return them."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self._free = self.size
        self._changed = threading.Condition()

    def take(self, wanted: int, block: bool = False) -> int:
        """Up to `wanted` tokens; with `block`, waits until at least one is free."""
        with self._changed:
            if block:
                self._changed.wait_for(lambda: self._free > 0)
            got = max(0, min(wanted, self._free))
            self._free -= got
            return got

    def give(self, count: int) -> None:
        if count <= 0:
            return
        with self._changed:
            self._free = min(self.size, self._free + count)
            self._changed.notify_all()


class HostLimits:
    """Per host (after the mirror map): a semaphore of files in parallel, and the connection slots
    every connection to it counts against."""

    def __init__(self, session, per_host: int, connections: int = 1):
        self._session, self._per_host, self._connections = session, per_host, max(1, connections)
        self._semaphores: dict[str, threading.Semaphore] = {}
        self._slots: dict[str, ConnectionSlots] = {}
        self._lock = threading.Lock()

    def _host(self, url: str) -> str:
        mapped = self._session.map_url(url) if hasattr(self._session, "map_url") else url
        return urlsplit(mapped).netloc.lower()

    def slot(self, url: str) -> threading.Semaphore:
        host = self._host(url)
        with self._lock:
            if host not in self._semaphores:
                self._semaphores[host] = threading.BoundedSemaphore(polite_limit(url, self._per_host))
            return self._semaphores[host]

    def connections(self, url: str) -> ConnectionSlots:
        """The host's connection slots: the larger of the files in parallel and the connections of one
        file, capped for polite hosts."""
        host = self._host(url)
        with self._lock:
            if host not in self._slots:
                self._slots[host] = ConnectionSlots(polite_limit(url, max(self._per_host, self._connections)))
            return self._slots[host]

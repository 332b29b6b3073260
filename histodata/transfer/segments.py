"""One large file over several connections, still verified in one pass.

A file of at least `threshold()` bytes, from a server that honours ranges (`Accept-Ranges: bytes`
or a 206) and names a validator (a strong ETag or Last-Modified), is cut into pieces. Up to N
workers fetch the pieces in order, each with `Range: bytes=a-b` and `If-Range`, writing every chunk
at its offset into the partial file. A hash frontier follows the lowest unfinished offset: it reads
the contiguous prefix back (from the page cache, just written) into the hashers, so the digests are
ready when the last byte lands and the finished file is never read again.

The pieces' progress is kept in the partial's state (`PartialState.segments`, saved every
SAVE_EVERY seconds and at the end), so a rerun keeps what arrived. A recorded byte was always
written first. Faults stay per piece: a reset, a stall, a short body or a 200 with the same
validators (the server ignored Range once) retries that piece from where it stopped; an answer
naming another ETag, Last-Modified or size means the file changed upstream: `RestartFromZero`,
never a file stitched from two versions.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass

from .. import constants
from ..errors import DownloadError
from .hashing import CHUNK
from .http_transport import open_http
from .retry import RetryableError, SpeedGuard, StalledError
from .transport import Body, RestartFromZero

log = logging.getLogger(__name__)

DEFAULT_CONNECTIONS = 8        # like `aria2c -x8`; --connections / $HISTODATA_CONNECTIONS change it
DEFAULT_THRESHOLD = 32 << 20   # smaller files take one connection
PIECE_MIN, PIECE_MAX = 256 << 10, 64 << 20
PIECES_PER_CONNECTION = 4      # several pieces per worker: a slow connection delays one small piece
SAVE_EVERY = 0.1               # seconds between saves of the pieces' progress (what a kill loses)
REFUSALS = 2                   # non-206 answers in a row for one piece before falling back to one stream


class SegmentsRefused(RestartFromZero):
    """The server announces ranges but does not serve them: start again over one connection."""


def threshold() -> int:
    return constants.segment_min(DEFAULT_THRESHOLD)


@dataclass
class Piece:
    """The bytes [start, end) of the file; `done` of them are written (from `start`)."""

    start: int
    end: int
    done: int = 0
    taken: bool = False
    refused: int = 0              # answers in a row that were not a 206

    @property
    def position(self) -> int:
        return self.start + self.done

    @property
    def finished(self) -> bool:
        return self.position >= self.end


def plan(start: int, total: int, connections: int) -> list[Piece]:
    """Pieces covering [0, total): [0, start) already written, the rest cut for `connections`."""
    pieces = [Piece(0, start, start)] if start else []
    size = -(-(total - start) // (max(1, connections) * PIECES_PER_CONNECTION))
    size = min(PIECE_MAX, max(PIECE_MIN, size))
    pieces += [Piece(a, min(total, a + size)) for a in range(start, total, size)]
    return pieces


def to_state(pieces: list[Piece]) -> list[list[int]]:
    return [[p.start, p.end, p.done] for p in pieces]


def from_state(recorded, total: int | None) -> list[Piece] | None:
    """The pieces a partial's state records, or None when they do not tile [0, total)."""
    pieces, position = [], 0
    try:
        for start, end, done in recorded:
            if not all(isinstance(v, int) for v in (start, end, done)) or start != position \
                    or not 0 <= done <= end - start or end <= start:
                return None
            pieces.append(Piece(start, end, done))
            position = end
    except (TypeError, ValueError):
        return None
    return pieces if pieces and position == total else None


def done_bytes(pieces: list[Piece]) -> int:
    return sum(p.done for p in pieces)


def prefix(pieces: list[Piece]) -> int:
    """Bytes written contiguously from offset 0."""
    for piece in pieces:
        if not piece.finished:
            return piece.position
    return pieces[-1].end if pieces else 0


class Segments:
    """Fetch `pieces` of `job`'s file with `workers` connections; the job's hasher gets the bytes in
    order. `give_back(1)` returns an extra connection's slot when its worker ends."""

    def __init__(self, job, pieces: list[Piece], total: int, workers: int, give_back=lambda n: None):
        self.job, self.pieces, self.total = job, pieces, total
        self.workers, self.give_back = max(1, workers), give_back
        state = job.partial.state
        self.etag, self.last_modified = state.etag, state.last_modified
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.landed = threading.Condition()
        self.bodies: dict[int, Body] = {}   # open bodies by id (closed on a failure)
        self.low = 0                      # index of the lowest unfinished piece
        self.fd = -1
        self.tail = 0.0                   # seconds from the last byte written to the digests' input

    # -- the whole run ------------------------------------------------------------------------
    def run(self, first: Body | None) -> None:
        """Until every piece is written and hashed; raises the first worker's error."""
        self.fd = os.open(self.job.partial.path, os.O_RDWR)
        threads = [threading.Thread(target=self._work, args=(first if n == 0 else None, n > 0),
                                    name=f"segment-{n}", daemon=True) for n in range(self.workers)]
        frontier = threading.Thread(target=self._hash_frontier, name="hash-frontier", daemon=True)
        try:
            for thread in (*threads, frontier):
                thread.start()
            try:
                self._watch(threads)
            except BaseException as error:   # Ctrl-C in this thread: stop the workers, keep progress
                self._fail(error)
            self._end(threads)
            landed = time.monotonic()
            frontier.join()
            self.tail = time.monotonic() - landed
        finally:
            self._save()
            os.close(self.fd)
        if self.error is not None:
            raise self.error
        log.debug("%s: %d bytes over %d connections; hashes ready %.3f s after the last byte",
                  self.job.shown_url, self.total, self.workers, self.tail)

    def _watch(self, threads) -> None:
        saved = None
        while any(t.is_alive() for t in threads):
            next(t for t in threads if t.is_alive()).join(SAVE_EVERY)
            cancel = self.job.cancel
            if cancel is not None and cancel.is_set():
                self._fail(KeyboardInterrupt())
            saved = self._save(saved)

    def _end(self, threads) -> None:
        """Wait for the workers; on a failure, close their bodies so none stays in a blocking read."""
        while any(t.is_alive() for t in threads):
            if self.stop.is_set():
                with self.lock:
                    bodies = list(self.bodies.values())
                for body in bodies:
                    body.close()
            for thread in threads:
                thread.join(0.2)

    def _save(self, previous=None):
        recorded = to_state(self.pieces)
        if recorded != previous:
            self.job.partial.state.segments = recorded
            self.job.partial.save()
        return recorded

    def _fail(self, error: BaseException) -> None:
        with self.lock:
            if self.error is None:
                self.error = error
        self.stop.set()
        with self.landed:
            self.landed.notify_all()

    # -- workers ------------------------------------------------------------------------------
    def _work(self, first: Body | None, extra: bool) -> None:
        try:
            if first is not None:
                self._fetch(self._claim(first.start), first)
            while not self.stop.is_set() and (piece := self._next()) is not None:
                self._fetch(piece)
        except KeyboardInterrupt as error:
            if not self.stop.is_set():
                self._fail(error)
        except BaseException as error:
            self._fail(error)
        finally:
            if extra:
                self.give_back(1)

    def _claim(self, start: int) -> Piece:
        with self.lock:
            piece = next(p for p in self.pieces if p.start == start)
            piece.taken = True
            return piece

    def _next(self) -> Piece | None:
        with self.lock:
            for piece in self.pieces:
                if not piece.taken and not piece.finished:
                    piece.taken = True
                    return piece
        return None

    def _fetch(self, piece: Piece, body: Body | None = None) -> None:
        """One piece to its end: retried from where it stopped, bounded per stretch without progress."""
        failures = 0
        while not piece.finished:
            before = piece.done
            try:
                body = body if body is not None else self._open(piece)
                with self.lock:
                    self.bodies[id(body)] = body
                try:
                    with body:
                        self._write(piece, body)
                finally:
                    with self.lock:
                        self.bodies.pop(id(body), None)
                    body = None
                if not piece.finished:
                    raise RetryableError(f"{self.job.shown_url}: a segment ended after {piece.done} of "
                                         f"{piece.end - piece.start} bytes",
                                         "Run the command again to resume.")
            except RetryableError as error:
                if self.stop.is_set():
                    raise KeyboardInterrupt from None
                progressed = piece.done > before and not isinstance(error, StalledError)
                failures = 1 if progressed else failures + 1
                self.job.policy.wait(failures, error, self.stop)

    def _open(self, piece: Piece) -> Body:
        job = self.job
        body = open_http(job.session, job.url, offset=piece.position, end=piece.end, etag=self.etag,
                         last_modified=self.last_modified, headers=job.headers, allow_html=job.allow_html)
        try:
            self._check(body, piece)
        except BaseException:
            body.close()
            raise
        return body

    def _check(self, body: Body, piece: Piece) -> None:
        """Only bytes of the same version of the file, at the offset asked for, are written."""
        changed = any(old and new and old != new for old, new in
                      ((self.etag, body.etag), (self.last_modified, body.last_modified)))
        if changed:
            raise RestartFromZero("the file changed on the server (new ETag or Last-Modified) half-way")
        if body.ranged:
            if body.total is not None and body.total != self.total:
                raise RestartFromZero(f"the file's size changed from {self.total} to {body.total} bytes")
            piece.refused = 0
            return
        piece.refused += 1
        if piece.refused >= REFUSALS:
            raise SegmentsRefused("the server keeps answering segment requests without a 206")
        raise RetryableError(f"{self.job.shown_url} answered a segment request with HTTP 200 instead of 206",
                             "The server ignored Range; run the command again.")

    def _write(self, piece: Piece, body: Body) -> None:
        job, cancel = self.job, self.job.cancel
        speed = SpeedGuard(job.shown_url)
        for chunk in body.chunks:
            if self.stop.is_set() or (cancel is not None and cancel.is_set()):
                raise KeyboardInterrupt
            view = memoryview(chunk)[:piece.end - piece.position]
            self._pwrite(view, piece.position)
            piece.done += len(view)
            job.display.advance(job.handle, len(view))
            speed.add(len(view))
            with self.landed:
                self.landed.notify_all()
            if piece.finished:
                return

    def _pwrite(self, data, offset: int) -> None:
        try:
            while data:
                written = os.pwrite(self.fd, data, offset)
                data, offset = data[written:], offset + written
        except OSError as err:
            raise self.job.write_error(err) from None

    # -- the hash frontier ------------------------------------------------------------------
    def _frontier(self) -> int:
        while self.low < len(self.pieces) and self.pieces[self.low].finished:
            self.low += 1
        return self.pieces[self.low].position if self.low < len(self.pieces) else self.total

    def _hash_frontier(self) -> None:
        """Feed the hashers the contiguous prefix as it grows (read back from the page cache)."""
        job = self.job
        try:
            while job.hashed < self.total:
                end = self._frontier()
                if job.hashed < end:
                    chunk = os.pread(self.fd, min(CHUNK, end - job.hashed), job.hashed)
                    if not chunk:
                        raise DownloadError(f"{job.partial.path} is shorter than its recorded segments.",
                                            "Run the same command again (the download restarts).")
                    job.hasher.update(chunk)
                    job.hashed += len(chunk)
                    continue
                if self.stop.is_set():
                    return
                with self.landed:
                    self.landed.wait(0.05)
        except BaseException as error:
            self._fail(error)

"""Download one file: streamed, hashed in one pass, verified, renamed atomically, resumable."""
from __future__ import annotations

import errno
import logging
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

from .. import constants
from ..errors import ChecksumError, DownloadError
from ..http import SECRET_HEADERS, new_session
from ..redact import register_secret
from . import sanity, segments
from .ftp_transport import open_ftp
from .hashing import StreamHasher, mismatches, normalize_checksums
from .hosts import ConnectionSlots, polite_limit
from .http_transport import if_range_validator, open_http
from .models import DownloadResult
from .partial import Partial, PartialState
from ..progress import TransferDisplay
from .retry import RetryableError, RetryPolicy, SpeedGuard, StalledError
from .transport import Body, RestartFromZero, display_url

log = logging.getLogger(__name__)

SPACE_MARGIN = 16 << 20       # keep this much free beyond the expected size
MAX_RESTARTS = 3              # restarts from zero within one run (file changing under us)
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_OUTDATED = "The file changed upstream or the registry entry is out of date."
_RUN_AGAIN = "run the same command again to resume"


def download(url: str, path, checksums: dict[str, str] | None = None, size: int | None = None,
             headers: dict[str, str] | None = None, *, session=None, quiet: bool | None = None,
             allow_html: bool = False, policy: RetryPolicy | None = None,
             display: TransferDisplay | None = None, cancel: threading.Event | None = None,
             work_dir=None, connections: int | None = None, slots: ConnectionSlots | None = None
             ) -> DownloadResult:
    """Download `url` to `path`, verified against `size` and `checksums` ({"md5": hex, ...}).

    Bytes stream into a per-process partial file while every expected algorithm plus sha256 is
    computed; only verified bytes are renamed into place. The partial, its state and the lock live
    in `work_dir` (default: beside `path`). An interrupted download resumes on the next call.
    A large file on a server that honours ranges comes over up to `connections` connections
    (default: $HISTODATA_CONNECTIONS, else 8; 1 = one stream), the extra ones taken from `slots`
    (the host's free connections, see `hosts`) when given. Raises DownloadError, or ChecksumError
    for wrong bytes.
    """
    session = session or new_session()
    connections = polite_limit(url, wanted_connections(connections, session))
    if slots is None:                       # on its own: this file's connections are all there is
        slots = ConnectionSlots(connections)
        slots.take(1)
    job = _Download(url, Path(path).expanduser().absolute(), normalize_checksums(checksums), size,
                    dict(headers or {}), session, allow_html,
                    policy or RetryPolicy.from_env(), cancel,
                    None if work_dir is None else Path(work_dir).expanduser().absolute())
    job.connections, job.slots = connections, slots
    if display is not None:
        return job.run(display)
    with TransferDisplay(quiet) as own_display:
        return job.run(own_display)


def wanted_connections(connections: int | None, session=None) -> int:
    """--connections as given, else the session's (`fetch --connections`), else the environment's."""
    if connections is None:
        connections = getattr(session, "connections", None)
    if connections is None:
        return constants.connections(segments.DEFAULT_CONNECTIONS)
    return max(1, int(connections))


class _Download:
    """The state of one download while it runs."""

    def __init__(self, url, target: Path, expected: dict[str, str], size: int | None, headers: dict,
                 session, allow_html: bool, policy: RetryPolicy, cancel: threading.Event | None,
                 work_dir: Path | None = None):
        self.url, self.target, self.expected, self.size = url, target, expected, size
        self.headers, self.session, self.allow_html, self.policy = headers, session, allow_html, policy
        self.cancel, self.work_dir = cancel, work_dir
        self.connections, self.slots = 1, ConnectionSlots(1)
        self.hashed = 0                   # bytes fed to the hasher (the contiguous prefix)
        self.shown_url = display_url(url)
        self.is_ftp = urlsplit(url).scheme.lower() == "ftp"
        for name, value in headers.items():
            if name.lower() in {h.lower() for h in SECRET_HEADERS}:
                register_secret(value.split(" ", 1)[-1])
                register_secret(value)

    # -- the whole job ---------------------------------------------------------------------
    def run(self, display: TransferDisplay) -> DownloadResult:
        state = PartialState(self.url, self.size, self.expected)
        with Partial(self.target, state, self.work_dir) as partial:
            self.partial, self.display = partial, display
            resumed_from = self._kept_bytes()
            self.handle = display.start_file(self.target.name, self.size, resumed_from)
            try:
                hashes, resumed_from = self._fetch_with_fallback(resumed_from)
            except ChecksumError:
                partial.discard()
                raise
            except BaseException:
                partial.discard_if_empty()
                raise
            finally:
                display.finish_file(self.handle)
            size = partial.size
            partial.commit()
        log.debug("saved %s (%d bytes, resumed from %d)", self.target, size, resumed_from)
        return DownloadResult(path=self.target, size=size, hashes=hashes, verified=sorted(self.expected),
                              resumed_from=resumed_from, url=self.url)

    def _kept_bytes(self) -> int:
        """Bytes of a claimed partial usable for resuming (0 = start from scratch)."""
        kept, state = self.partial.size, self.partial.state
        pieces = segments.from_state(state.segments, state.total) if state.segments else None
        if state.segments and pieces is None:
            self.partial.restart()
            return 0
        if pieces is not None:
            kept = segments.done_bytes(pieces)
        trustworthy = state.etag or state.last_modified or self.expected
        too_big = any(limit is not None and kept > limit for limit in (self.size, state.total))
        if kept and (not trustworthy or too_big):
            self.partial.restart()
            return 0
        ensure_free_space(self.target.parent, None if self.size is None else self.size - kept)
        return kept

    def _fetch_with_fallback(self, kept: int) -> tuple[dict[str, str], int]:
        """Hashes and bytes resumed; kept bytes that fail verification get one fresh download."""
        self.kept = kept
        try:
            return self._fetch_and_verify(kept), self.kept
        except ChecksumError:
            if not self.kept:
                raise
        log.warning("%s: the bytes kept from an earlier run did not verify; downloading again from zero",
                    self.target.name)
        self.display.rewind(self.handle, self.partial.size)
        self.partial.restart()
        self.kept = 0
        return self._fetch_and_verify(0), 0

    def _fetch_and_verify(self, kept: int) -> dict[str, str]:
        if not kept and self.partial.size:
            self.partial.restart()
        self.hasher = StreamHasher(self.expected)
        state = self.partial.state
        self.hashed = kept if not state.segments else segments.prefix(segments.from_state(state.segments,
                                                                                          state.total))
        try:
            self.hasher.update_from_file(self.partial.path, self.hashed)
            self._receive()
            hashes = self.hasher.hexdigests()
        finally:
            self.hasher.close()
        self._verify(self.partial.size, hashes)
        return hashes

    # -- attempts ---------------------------------------------------------------------------
    def _receive(self) -> None:
        """Stream until the file is complete, retrying and restarting as needed.

        The tries are bounded per stretch without progress: a flaky link that keeps delivering
        bytes is followed to the end, a dead one gives up after the policy's tries."""
        failures = restarts = 0
        while True:
            before = self.partial.size
            try:
                return self._attempt()
            except RestartFromZero as why:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise DownloadError(f"{self.shown_url} could not be downloaded consistently: "
                                        f"{restarts} restarts from zero ({why}).",
                                        "The file keeps changing on the server, or the server cannot "
                                        "resume it safely; try again later.") from None
                log.info("%s: %s; restarting from zero", self.shown_url, why)
                if isinstance(why, segments.SegmentsRefused):
                    self.connections = 1
                self._start_over()
            except RetryableError as error:
                progressed = self.partial.size > before and not isinstance(error, StalledError)
                failures = 1 if progressed else failures + 1
                self.policy.wait(failures, error, self.cancel)

    def _start_over(self) -> None:
        """Forget the kept bytes and their hashes."""
        self.kept = self.hashed = 0
        self.hasher.close()
        self.hasher = StreamHasher(self.expected)
        self.display.rewind(self.handle, self.partial.size)
        self.partial.restart()

    def _attempt(self) -> None:
        if self.partial.state.segments:     # a segmented partial: its missing pieces, If-Range guarded
            return self._segmented(None, self.slots.take(self.connections - 1))
        offset = self.partial.size
        with self._open(offset) as body:
            if offset and not body.start:
                self._start_over()
            elif body.start:
                self._check_same_file(body)
            self._check_announced_size(body)
            self._remember_validators(body)
            extra = self._extra_connections(body)
            if extra:
                return self._segmented(body, extra)
            received = self._write(body)
        if body.total is not None and body.start + received < body.total:
            raise RetryableError(f"{self.shown_url}: the body ended after {body.start + received} of "
                                 f"{body.total} bytes", "Run the command again to resume.")
        if not self.partial.size and self.size != 0:
            raise sanity.empty_body_error(self.shown_url, 200)

    def _extra_connections(self, body: Body) -> int:
        """How many more connections this body's file gets (0: stream it on this one)."""
        if self.is_ftp or self.connections < 2 or not body.accepts_ranges or body.total is None:
            return 0
        if body.total - body.start < segments.threshold():
            return 0
        if not (if_range_validator(body.etag, body.last_modified) or self.expected):
            return 0                          # neither If-Range nor a checksum would notice a change
        return self.slots.take(self.connections - 1)

    def _segmented(self, first: Body | None, extra: int) -> None:
        """The rest of the file over 1 + `extra` connections (see `segments`)."""
        state = self.partial.state
        if first is None:
            pieces = segments.from_state(state.segments, state.total)
        else:
            pieces = segments.plan(first.start, first.total, 1 + extra)
            state.segments = segments.to_state(pieces)
            self.partial.save()
        try:
            segments.Segments(self, pieces, state.total, 1 + extra, self.slots.give).run(first)
        except BaseException:
            if first is not None and not self.partial.size:
                state.segments = None           # nothing written: the next run starts plainly
                self.partial.save()
            raise

    def write_error(self, err: OSError) -> DownloadError:
        """A failed write of a segment (the bytes kept are those the pieces record)."""
        state = self.partial.state
        pieces = segments.from_state(state.segments, state.total) if state.segments else None
        return _write_error(err, self.target, segments.done_bytes(pieces) if pieces else self.partial.size)

    def _open(self, offset: int) -> Body:
        state = self.partial.state
        mapped = self.session.map_url(self.url) if hasattr(self.session, "map_url") else self.url
        if self.is_ftp:
            return open_ftp(mapped, offset=offset, last_modified=state.last_modified)
        return open_http(self.session, self.url, offset=offset, etag=state.etag,
                         last_modified=state.last_modified, headers=self.headers, allow_html=self.allow_html)

    def _check_same_file(self, body: Body) -> None:
        """Splice a resumed answer only onto bytes provably of the same file: the total the server
        first announced must not change, and a validator (or expected checksums) must vouch for it."""
        known = self.partial.state.total
        if known is not None and body.total is not None and body.total != known:
            raise RestartFromZero(f"the file's size changed from {known} to {body.total} bytes")
        resumed = body.total is None or body.start < body.total      # (not a 416 'already complete')
        if resumed and not self.is_ftp and not (body.etag or body.last_modified or self.expected):
            raise RestartFromZero("the server sends no ETag or Last-Modified to show that the bytes kept "
                                  "belong to the same file")

    def _check_announced_size(self, body: Body) -> None:
        if self.size is not None and body.total is not None and body.total != self.size:
            raise ChecksumError(f"{self.shown_url} is {body.total} bytes on the server but {self.size} "
                                "were expected; nothing was saved.",
                                _OUTDATED)
        if body.total is not None and self.size is None:
            ensure_free_space(self.target.parent, body.total - body.start)
            self.display.set_total(self.handle, body.total)

    def _remember_validators(self, body: Body) -> None:
        """Keep the validators and the announced total with the partial (for the next resume)."""
        state = self.partial.state
        total = state.total if body.start and body.total is None else body.total
        if (body.etag, body.last_modified, total) != (state.etag, state.last_modified, state.total):
            state.etag, state.last_modified, state.total = body.etag, body.last_modified, total
            self.partial.save()

    def _write(self, body: Body) -> int:
        """Append the body to the partial file and the hasher; returns the bytes received."""
        received = 0
        limit = None if self.size is None else self.size - body.start
        speed = SpeedGuard(self.shown_url)
        try:
            with open(self.partial.path, "ab") as out:
                for chunk in body.chunks:
                    if self.cancel is not None and self.cancel.is_set():
                        raise KeyboardInterrupt
                    out.write(chunk)
                    self.hasher.update(chunk)
                    self.hashed += len(chunk)
                    received += len(chunk)
                    self.display.advance(self.handle, len(chunk))
                    speed.add(len(chunk))
                    if limit is not None and received > limit:
                        raise ChecksumError(f"{self.shown_url} sent more than the expected {self.size} "
                                            "bytes; nothing was saved.",
                                            _OUTDATED)
        except OSError as err:
            raise _write_error(err, self.target, self.partial.size) from None
        return received

    def _verify(self, size: int, hashes: dict[str, str]) -> None:
        if self.size is not None and size != self.size:
            raise ChecksumError(f"{self.target.name}: got {size} bytes, expected {self.size}; nothing "
                                "was saved.", _OUTDATED)
        failed = mismatches(self.expected, hashes)
        if failed:
            raise ChecksumError(f"{self.target.name} from {self.shown_url} failed verification: "
                                f"{'; '.join(failed)}; nothing was saved.",
                                "The download was corrupted or the file changed upstream; run again, and "
                                "report the entry if it persists.")


def _write_error(err: OSError, target: Path, kept: int) -> DownloadError:
    if err.errno in _DISK_FULL:
        return DownloadError(f"disk full while writing {target} ({err.strerror}); the {kept} bytes "
                             "received are kept.", f"Free some space and {_RUN_AGAIN}.")
    return DownloadError(f"cannot write {target}: {err.strerror or err}.",
                         f"Check that the folder exists and is writable; {_RUN_AGAIN}.")


def ensure_free_space(folder: Path, needed: int | None) -> None:
    """Fail early when `folder`'s file system cannot hold `needed` more bytes."""
    if not needed or needed <= 0:
        return
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed + SPACE_MARGIN:
        raise DownloadError(f"not enough free space in {folder}: {needed} bytes needed, {free} free.",
                            "Free some space or choose another target folder.")

"""One retry policy for every request histodata makes: API calls and downloads alike.

Connection errors, timeouts, truncated bodies, 429 and 5xx are retried with exponential backoff
and full jitter, honouring `Retry-After` (seconds or an HTTP-date); after a bounded number of
tries the last failure becomes a clear `DownloadError`.
"""
from __future__ import annotations

import email.utils
import logging
import random
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from .. import constants
from ..errors import DownloadError
from ..redact import redact
from .transport import tried_url

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524})


class RetryableError(DownloadError):
    """A failure worth another try (network trouble, 429, 5xx), with the server's wait if any."""

    def __init__(self, message: str, hint: str | None = None, retry_after: float | None = None,
                 max_tries: int | None = None):
        super().__init__(message, hint)
        self.retry_after = retry_after
        self.max_tries = max_tries      # fewer tries than the policy's (a host that cannot be reached)


class StalledError(RetryableError):
    """The transfer crawls below the minimum speed: retried (resuming), and counted as a failed try
    even though some bytes arrived, so a server trickling a byte at a time is not followed forever."""


class SpeedGuard:
    """Raises StalledError when fewer than `limit` bytes per second arrive over `window` seconds
    (like curl's --speed-limit/--speed-time). One per response body."""

    LIMIT, WINDOW = 1024.0, 60.0      # defaults: a slow but real transfer is never stopped

    def __init__(self, url: str, limit: float | None = None, window: float | None = None):
        env_limit, env_window = constants.low_speed(self.LIMIT, self.WINDOW)
        self.url = url
        self.limit = env_limit if limit is None else limit
        self.window = env_window if window is None else window
        self.active = self.limit > 0 and self.window > 0
        self.since, self.received = time.monotonic(), 0

    def add(self, count: int) -> None:
        if not self.active:
            return
        self.received += count
        now = time.monotonic()
        elapsed = now - self.since
        if elapsed < self.window:
            return
        if self.received < self.limit * elapsed:
            raise StalledError(f"{self.url}: the transfer stalled ({self.received} bytes in {elapsed:.0f} s, "
                               f"below the minimum of {self.limit:g} bytes/s over {self.window:g} s)",
                               "The server is stuck or very slow; run the same command again to resume "
                               f"(or set {constants.ENV_LOW_SPEED_LIMIT}=0 to accept any speed).")
        self.since, self.received = now, 0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry."""

    tries: int = 6                 # total attempts, first one included
    backoff: float = 1.0           # base delay in seconds: base * 2**n, full jitter
    max_delay: float = 60.0        # cap of one computed backoff delay
    max_retry_after: float = 900.0  # a longer Retry-After is reported instead of waited for

    @classmethod
    def from_env(cls) -> "RetryPolicy":
        """The default policy, tunable with $HISTODATA_RETRIES and $HISTODATA_BACKOFF."""
        return cls(tries=max(1, constants.retry_tries(cls.tries)),
                   backoff=max(0.0, constants.retry_backoff(cls.backoff)))

    def delay(self, failed_attempts: int, retry_after: float | None = None) -> float:
        """Seconds to wait after `failed_attempts` failures: the server's wish, else jittered backoff."""
        if retry_after is not None:
            return max(0.0, retry_after)
        ceiling = min(self.max_delay, self.backoff * (2 ** (failed_attempts - 1)))
        return random.uniform(0, ceiling)

    def wait(self, failed_attempts: int, error: RetryableError,
             cancel: threading.Event | None = None) -> None:
        """Sleep before the next try, or raise when tries are exhausted or the wait is too long.
        A set `cancel` event ends the wait with KeyboardInterrupt (Ctrl-C in a batch)."""
        tries = min(self.tries, error.max_tries or self.tries)
        if failed_attempts >= tries:
            raise DownloadError(f"{error.message} (gave up after {failed_attempts} tries).",
                                error.hint or "Check your connection or try again later.") from error
        if error.retry_after is not None and error.retry_after > self.max_retry_after:
            raise DownloadError(f"{error.message}; the server asks to wait {error.retry_after:.0f} s.",
                                "Try again later (rate limit or maintenance).") from error
        seconds = self.delay(failed_attempts, error.retry_after)
        log.info("%s; retry %d/%d in %.1f s", redact(error.message), failed_attempts, tries - 1, seconds)
        if cancel is None:
            time.sleep(seconds)
        elif cancel.wait(seconds):
            raise KeyboardInterrupt


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_is_retryable(status: int) -> bool:
    return status in RETRY_STATUSES


def retryable_status_error(response: requests.Response, url: str) -> RetryableError:
    """The error for a 429/5xx answer, carrying its Retry-After."""
    reason = "rate limited" if response.status_code == 429 else "server error"
    return RetryableError(f"{url} answered HTTP {response.status_code} ({reason})",
                          "The server is busy or rate limiting; try again later.",
                          retry_after=parse_retry_after(response.headers.get("Retry-After")))


# A host that does not resolve or refuses connections is not a passing hiccup: one more try, not six.
UNREACHABLE_TRIES = 2


def root_cause(err: BaseException, kind: type) -> BaseException | None:
    """The first exception of type `kind` in the chain behind `err` (requests wraps urllib3, which
    wraps the socket error)."""
    stack, seen = [err], set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        reason = getattr(current, "reason", None)
        stack += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
        stack += [reason if isinstance(reason, BaseException) else None, current.__cause__, current.__context__]
    return None


def network_error(err: Exception, url: str) -> RetryableError:
    """A connection error, timeout or truncated body as a retryable error (no secrets, no traceback);
    a name that does not resolve or a refused connection says so and is tried only twice."""
    kind = type(err).__name__
    host = urlsplit(url.split(" ", 1)[0]).hostname or "the host"
    unresolved = root_cause(err, socket.gaierror)
    if unresolved is not None:
        return RetryableError(f"{url}: the host name {host} could not be resolved "
                              f"({unresolved.strerror or unresolved})",
                              "Check the address (and any $HISTODATA_MIRRORS entry) and your network's DNS.",
                              max_tries=UNREACHABLE_TRIES)
    refused = root_cause(err, ConnectionRefusedError)
    if refused is not None:
        return RetryableError(f"{url}: {host} refused the connection ({refused.strerror or refused})",
                              "Is the server up? Check the address and port.", max_tries=UNREACHABLE_TRIES)
    if isinstance(err, requests.Timeout):
        what = "timed out"
    elif isinstance(err, (requests.exceptions.ChunkedEncodingError,)) or "IncompleteRead" in str(err):
        what = "the connection was cut before the end of the body"
    else:
        what = "the connection failed"
    return RetryableError(f"{url}: {what} ({kind})", "Check your connection and run the command again.")


def request_with_retries(session: requests.Session, method: str, url: str, *,
                         policy: RetryPolicy | None = None, **kwargs) -> requests.Response:
    """`session.request(...)` with the retry policy for API calls (JSON/XML documents).

    Retries connection errors, timeouts, 429 and 5xx (honouring Retry-After); returns any other
    response as is (check its status yourself), reads the body so it is complete.
    Raises DownloadError when the tries are exhausted.
    """
    policy = policy or RetryPolicy.from_env()
    failed = 0
    while True:
        try:
            response = session.request(method, url, **kwargs)
            if status_is_retryable(response.status_code):
                error = retryable_status_error(response, url)
                response.close()
                raise error
            _ = response.content  # a truncated body raises here, inside the retry loop
            return response
        except requests.RequestException as err:
            error = network_error(err, tried_url(session, url))
        except RetryableError as err:
            error = err
        failed += 1
        policy.wait(failed, error)


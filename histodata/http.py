"""One configured HTTP session for every request histodata makes.

It identifies itself (`histodata/<version>`), applies the mirror map to every URL including
redirect targets, refuses the network in offline mode, sends a credential only to its own service's
host (`credentials.scoped`: not to a host an API document names) and drops credentials when a
redirect leaves the host they were meant for (storage URLs must never see a token).
"""
from __future__ import annotations

import logging
import time
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from . import constants
from ._version import __version__
from .credentials import meant_for
from .errors import OfflineError
from .mirrors import apply_mirrors, parse_mirrors

log = logging.getLogger(__name__)

USER_AGENT = f"histodata/{__version__} (+https://github.com/histodata/histodata)"
# Headers that carry credentials; removed when a redirect changes host or port.
SECRET_HEADERS = ("Authorization", "Girder-Token", "Girder-Authorization", "X-Api-Key", "Cookie",
                  "X-Kaggle-Key", "Private-Token", "X-Auth-Token")
DEFAULT_TIMEOUT = (15, 60)  # connect, read (seconds)
RATE_LIMIT_MAX_WAIT = 60.0   # seconds; a longer X-RateLimit-Reset is left to the retry policy


def respect_rate_limit(response, *args, now: float | None = None, **kwargs) -> None:
    """A response hook: when a server says no requests remain in its window (X-RateLimit-Remaining: 0,
    as Zenodo does), wait for its X-RateLimit-Reset (epoch seconds) before the next request, at most
    a minute."""
    if response.headers.get("X-RateLimit-Remaining", "").strip() != "0":
        return
    try:
        reset = float(response.headers.get("X-RateLimit-Reset", ""))
    except ValueError:
        return
    wait = min(RATE_LIMIT_MAX_WAIT, reset - (time.time() if now is None else now))
    if wait > 0:
        log.debug("rate limit reached; waiting %.1f s for the window to reset", wait)
        time.sleep(wait)


class Session(requests.Session):
    """requests.Session with histodata's user agent, mirror map, offline mode and timeouts."""

    def __init__(self, pool_size: int = 16, connections: int | None = None):
        super().__init__()
        self.connections = connections   # most connections for one large file (None: the default)
        pool_size = max(pool_size, 2 * (connections or 8))   # segments reuse their connections
        self.headers["User-Agent"] = USER_AGENT
        self._mirrors = parse_mirrors(constants.mirrors_spec())
        self._originals: dict[str, str] = {}  # mirrored URL -> the URL before the mirror map
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.hooks["response"].append(respect_rate_limit)   # every request, API calls and downloads

    def map_url(self, url: str) -> str:
        mapped = apply_mirrors(url, self._mirrors)
        if mapped != url:
            if len(self._originals) > 10_000:
                self._originals.clear()
            self._originals[mapped] = url
        return mapped

    def original_url(self, url: str) -> str:
        """The URL as the program asked for it, before the mirror map."""
        return self._originals.get(url, url)

    def request(self, method, url, *args, **kwargs):  # noqa: D102
        if constants.offline():
            raise OfflineError(f"network access to {url} refused: {constants.ENV_OFFLINE} is set.",
                               "Unset it, or use data already on disk.")
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        if kwargs.get("headers"):          # credentials go only to their own service's host
            kwargs["headers"] = meant_for(url, kwargs["headers"])
        mapped = self.map_url(url)
        log.debug("%s %s%s", method, mapped, f" (mirror of {url})" if mapped != url else "")
        return super().request(method, mapped, *args, **kwargs)

    def get_redirect_target(self, resp):  # noqa: D102 - redirects go through the mirror map too
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        absolute = urljoin(self.original_url(resp.url), target)
        mapped = self.map_url(absolute)
        log.debug("redirect %s -> %s", resp.status_code, mapped)
        return mapped

    def rebuild_auth(self, prepared_request, response):  # noqa: D102
        # Compare the hosts the program meant, not where the mirror map sends them: two real hosts
        # mirrored onto one local server are still two hosts.
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(self.original_url(response.request.url),
                                  self.original_url(prepared_request.url)):
            for header in SECRET_HEADERS:
                prepared_request.headers.pop(header, None)


def new_session(pool_size: int = 16, connections: int | None = None) -> Session:
    """A Session; `connections` (--connections) bounds the connections of one large file."""
    return Session(pool_size=pool_size, connections=connections)

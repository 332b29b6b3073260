"""What a transport (HTTP, FTP) hands the engine: a body positioned at an offset."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit


class RestartFromZero(Exception):
    """The kept bytes cannot be continued (file changed upstream, unusable range answer)."""


@dataclass
class Body:
    """A response body: `start` is the offset its first byte belongs at (0 = whole file)."""

    start: int
    total: int | None                     # the size of the whole file, when the server says it
    chunks: Iterator[bytes]
    etag: str | None = None
    last_modified: str | None = None
    close: Callable[[], None] = field(default=lambda: None)
    ranged: bool = False                  # a 206: the bytes asked for, not the whole file
    accepts_ranges: bool = False          # the server honours Range (Accept-Ranges: bytes, or a 206)

    def __enter__(self) -> "Body":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def display_url(url: str) -> str:
    """The URL without user:password@ (for messages and logs)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def tried_url(session, url: str) -> str:
    """`url` for messages: as asked for, plus the mirror actually tried when the map rewrote it
    (a typo in the mirror map then shows where the request really went)."""
    mapped = session.map_url(url) if hasattr(session, "map_url") else url
    shown = display_url(url)
    return shown if mapped == url else f"{shown} (tried at the mirror {display_url(mapped)})"

"""HTTP(S) bodies for the engine: Range + If-Range to resume, raw bytes (no content decoding)."""
from __future__ import annotations

import itertools
import logging
import re

import requests
import urllib3

from ..errors import DownloadError
from . import sanity
from .hashing import CHUNK
from .retry import network_error, retryable_status_error, status_is_retryable
from .transport import Body, RestartFromZero, tried_url

log = logging.getLogger(__name__)

_NOT_RETRYABLE = (requests.TooManyRedirects, requests.exceptions.InvalidSchema,
                  requests.exceptions.InvalidURL, requests.exceptions.MissingSchema)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.I)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.I)


def if_range_validator(etag: str | None, last_modified: str | None) -> str | None:
    """A strong ETag, else Last-Modified (If-Range cannot use a weak ETag)."""
    if etag and not etag.startswith("W/"):
        return etag
    return last_modified


def open_http(session: requests.Session, url: str, *, offset: int, etag: str | None,
              last_modified: str | None, headers: dict[str, str], allow_html: bool,
              end: int | None = None) -> Body:
    """GET `url` from `offset` (to `end`, excluded, for one segment; Range guarded by If-Range);
    raise for answers that are not the file."""
    request_headers = {"Accept-Encoding": "identity", **headers}
    if offset or end is not None:
        request_headers["Range"] = f"bytes={offset}-{'' if end is None else end - 1}"
        validator = if_range_validator(etag, last_modified)
        if validator:
            request_headers["If-Range"] = validator
    where = tried_url(session, url)
    try:
        response = session.get(url, headers=request_headers, stream=True)
    except _NOT_RETRYABLE as err:
        raise DownloadError(f"{where}: {type(err).__name__} ({str(err)[:200]}).",
                            "The server redirects in a loop or to an unusable URL; check the URL.") from None
    except requests.RequestException as err:
        raise network_error(err, where) from None
    try:
        return _body(response, where, offset, etag, last_modified, allow_html)
    except BaseException:
        response.close()
        raise


def _body(response: requests.Response, url: str, offset: int, etag: str | None,
          last_modified: str | None, allow_html: bool) -> Body:
    status = response.status_code
    if status == 416 and offset:
        return _unsatisfiable_range(response, offset)
    if status_is_retryable(status):
        raise retryable_status_error(response, url)
    if status == 202:
        raise sanity.accepted_error(url, response.headers)
    if status >= 400:
        raise sanity.status_error(url, status, response)
    if status not in (200, 206):
        raise sanity.empty_body_error(url, status)
    new_etag, new_modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    start, total = _position(response, status)
    if start and start != offset:
        raise RestartFromZero(f"the server sent bytes from {start}, not {offset}")
    if start and _validator_changed((etag, last_modified), (new_etag, new_modified)):
        raise RestartFromZero("the file changed on the server (new ETag or Last-Modified)")
    if offset and not start:
        log.info("%s: the server sent the whole file (Range ignored or file changed); restarting", url)
    chunks = _raw_chunks(response, url)
    if not allow_html and sanity.is_html(response.headers.get("Content-Type")):
        first = next(chunks, b"")
        if sanity.looks_like_html(first):
            raise sanity.html_error(first, url, status)
        chunks = itertools.chain([first], chunks)  # a mislabelled binary file: keep it
    ranges = status == 206 or response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
    return Body(start=start, total=total, chunks=chunks, etag=new_etag, last_modified=new_modified,
                close=response.close, ranged=status == 206, accepts_ranges=ranges)


def _position(response: requests.Response, status: int) -> tuple[int, int | None]:
    """(offset of the first byte, size of the whole file or None)."""
    if status == 206:
        match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
        if not match:
            raise RestartFromZero("a 206 answer without a usable Content-Range")
        total = match.group(3)
        return int(match.group(1)), None if total == "*" else int(total)
    length = response.headers.get("Content-Length")
    return 0, int(length) if length and length.isdigit() else None


def _validator_changed(old: tuple, new: tuple) -> bool:
    """True when the server names a different ETag or Last-Modified than the kept bytes had."""
    return any(before and after and before != after for before, after in zip(old, new, strict=True))


def _unsatisfiable_range(response: requests.Response, offset: int) -> Body:
    """416: complete already when the file is exactly `offset` bytes, else start over."""
    match = _UNSATISFIED_RANGE.match(response.headers.get("Content-Range", ""))
    if match and int(match.group(1)) == offset:
        response.close()
        return Body(start=offset, total=offset, chunks=iter(()))
    raise RestartFromZero("the server cannot serve the kept range")


def _raw_chunks(response: requests.Response, url: str):
    """The body as sent (no gzip decoding: Range offsets and checksums refer to these bytes)."""
    raw = response.raw
    # read1 returns what has arrived (progress and Ctrl-C stay live on slow links); read waits for CHUNK.
    read = raw.read1 if hasattr(raw, "read1") else raw.read
    try:
        while chunk := read(CHUNK, decode_content=False):
            yield chunk
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as err:
        raise network_error(err, url) from None

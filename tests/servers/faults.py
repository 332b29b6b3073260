"""A scripted HTTP server for hostile cases. Each path serves a file; a per-path script of
actions decides what the next requests get (then the file is served faithfully, with Range and
If-Range like nginx).

    server.add("/a.bin", data, script=["drop:1000", "status:503", "ignore-range"])

Actions (one request each):
  ok                 serve the file faithfully (Range/If-Range honoured)
  ignore-range       200 with the whole file even when a Range was asked for
  drop:N             announce the full length, send N bytes, close the connection
  truncate:N         like drop, but close cleanly after N bytes (same on the wire: a short body)
  status:CODE        an empty answer with this status (plus `headers`)
  retry-after:CODE:V CODE with `Retry-After: V` (seconds, or `date+S` for an HTTP-date S seconds ahead)
  html:NAME          a text/html page from HTML_PAGES (200)
  waf                202 + `x-amzn-waf-action: challenge`, empty body (figshare)
  empty              200 with an empty body
  wrong              the file with one byte flipped (same length)
  changed            the file with one byte flipped and a new ETag/Last-Modified (file changed upstream)
  changed-range      like `changed`, but Range is honoured even though If-Range no longer matches
  bigger             the file plus 10 extra bytes
  trickle:N:S        serve (Range honoured) N bytes at once, then one byte every S seconds (a slow loris)
  lying              the file changes (one byte flipped, 10 bytes more) but keeps its ETag and
                     Last-Modified: a server whose validators lie (Range honoured)
"""
from __future__ import annotations

import email.utils
import http.server
import re
import threading
import time
from dataclasses import dataclass, field

import pytest

from .quiet import QuietHTTPServer

HTML_PAGES = {
    "drive-quota": b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head><body>"
                   b'<p class="uc-error-subcaption">Sorry, you can&#39;t view or download this file '
                   b"at this time."
                   b" Too many users have viewed or downloaded this file recently.</p></body></html>",
    "drive-virus": b"<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>"
                   b'<form id="download-form" action="https://drive.usercontent.google.com/download" '
                   b'method="get"><input type="hidden" name="confirm" value="t"></form></body></html>',
    "login": b"<html><head><title>Sign in - Example</title></head><body><form>"
             b'<input type="password" name="pw"></form></body></html>',
    "cloudflare": b"<html><head><title>Just a moment...</title></head><body>"
                  b'<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1"></script>'
                  b"</body></html>",
    "plain": b"<html><head><title>Welcome to our portal</title></head><body>Hello</body></html>",
}

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass
class Route:
    data: bytes
    script: list[str] = field(default_factory=list)
    etag: str = '"v1"'
    last_modified: str = "Mon, 02 Jan 2023 10:00:00 GMT"
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    validators: bool = True  # send ETag / Last-Modified


class FaultServer(QuietHTTPServer):
    """Clients that hang up mid-answer are part of the game here: what a handler thread raises is
    kept in `errors` (see servers.quiet), never printed."""

    block_on_close = False

    def __init__(self, delay: float = 0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.routes: dict[str, Route] = {}
        self.log: list[dict] = []
        self.delay = delay
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, path: str, data: bytes, script=(), **options) -> str:
        self.routes[path] = Route(data, list(script), **options)
        return self.url + path

    def requests_for(self, path: str) -> list[dict]:
        return [entry for entry in self.log if entry["path"] == path]

    def next_action(self, path: str) -> str:
        with self._lock:
            route = self.routes.get(path)
            return route.script.pop(0) if route and route.script else "ok"

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        self.server.log.append({"method": "GET", "path": path, "headers": dict(self.headers),
                                "time": time.time(), "peer": self.client_address})
        self.server.enter()
        try:
            if self.server.delay:
                time.sleep(self.server.delay)
            route = self.server.routes.get(path)
            if route is None:
                return self._plain(404, b"not found")
            self._act(route, self.server.next_action(path))
        finally:
            self.server.leave()

    # -- actions ----------------------------------------------------------------------------
    def _act(self, route: Route, action: str) -> None:
        name, _, arg = action.partition(":")
        data, etag, modified = route.data, route.etag, route.last_modified
        if name == "status":
            return self._plain(int(arg), b"", route.headers)
        if name == "retry-after":
            code, _, value = arg.partition(":")
            if value.startswith("date+"):
                value = email.utils.formatdate(time.time() + float(value[5:]), usegmt=True)
            return self._plain(int(code), b"", {"Retry-After": value})
        if name == "html":
            return self._plain(200, HTML_PAGES[arg], {"Content-Type": "text/html; charset=utf-8"})
        if name == "waf":
            return self._plain(202, b"", {"x-amzn-waf-action": "challenge"})
        if name == "empty":
            return self._plain(200, b"", {"Content-Type": route.content_type})
        if name in ("wrong", "changed", "changed-range", "lying"):
            data = _flip(data)
        if name == "lying":
            route.data = data = data + b"0123456789"
        if name in ("changed", "changed-range"):
            route.data, route.etag, route.last_modified = data, '"v2"', "Tue, 03 Jan 2023 10:00:00 GMT"
            etag, modified = route.etag, route.last_modified
        if name == "bigger":
            data = data + b"0123456789"
        if name == "trickle":
            count, _, pause = arg.partition(":")
            return self._serve(route, data, etag, modified, False, int(count), trickle=float(pause))
        self._serve(route, data, etag, modified, ignore_range=name == "ignore-range",
                    cut=int(arg) if name in ("drop", "truncate") else None,
                    ignore_if_range=name == "changed-range")

    def _serve(self, route: Route, data: bytes, etag: str, modified: str, ignore_range: bool,
               cut: int | None, ignore_if_range: bool = False, trickle: float | None = None) -> None:
        start, end, status = 0, len(data), 200
        wanted = _RANGE.match(self.headers.get("Range", ""))
        if_range = None if ignore_if_range else self.headers.get("If-Range")
        range_applies = wanted and not ignore_range and (if_range is None or if_range in (etag, modified))
        if range_applies:
            start = int(wanted.group(1))
            if start >= len(data):
                return self._plain(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            status = 206
            if wanted.group(2):
                end = min(len(data), int(wanted.group(2)) + 1)
        body = data[start:end]
        self.send_response(status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if route.validators:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        for key, value in route.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            if trickle is not None:
                for position in range(cut, len(body)):
                    time.sleep(trickle)
                    self.wfile.write(body[position:position + 1])
                    self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _plain(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "text/plain", **(headers or {})}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _flip(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]


class running:
    """Context manager: a FaultServer serving in a thread, shut down on exit."""

    def __init__(self, delay: float = 0.0):
        self.server = FaultServer(delay)

    def __enter__(self) -> FaultServer:
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self.server

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def fault_server():
    with running() as server:
        yield server

"""A tiny routed HTTP(S) server for service emulators: 127.0.0.1, OS-chosen port, one thread each.

Emulators register handlers with `@server.route("GET", r"/api/v1/item/(?P<id>\\w+)")`; a handler
gets a `Request` and returns a `Reply` (or raises `Reply` to answer early). `file_reply` serves
bytes with single-range support (206 + Content-Range, 416), as real storage servers do. Every
request is recorded in `server.requests` so tests can check what travelled where; what a handler
thread raises (a client hanging up) in `server.errors`, never printed.

`Emulator` is the base of the service emulators (zenodo.py, figshare.py, ...): it declares the
public origins a service answers for (`ORIGINS`) and builds the mirror map from them; `Emulation`
runs the emulators of one test behind one $HISTODATA_MIRRORS (the `emulate` fixture).
"""
from __future__ import annotations

import json
import re
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from servers.quiet import QuietHTTPServer


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]          # lower-case names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)   # named groups of the route

    def json(self):
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """Query and form-encoded body parameters together (as Girder's cherrypy merges them)."""
        merged = dict(self.query)
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            merged.update({k: v[0] for k, v in parse_qs(self.body.decode()).items()})
        return merged


class Reply(Exception):
    """An HTTP answer (also raisable from deep inside a handler)."""

    def __init__(self, status: int = 200, body: bytes | str = b"", headers: dict | None = None,
                 content_type: str | None = None):
        super().__init__(status)
        self.truncate: int | None = None     # send only this many body bytes, then drop the connection
        self.send_length = True              # False: no Content-Length header (e.g. a HEAD that omits it)
        self.status = status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = dict(headers or {})
        if content_type:
            self.headers["Content-Type"] = content_type


def json_reply(document, status: int = 200, content_type: str = "application/json",
               headers: dict | None = None) -> Reply:
    return Reply(status, json.dumps(document), {**(headers or {}), "Content-Type": content_type})


def file_reply(request: Request, data: bytes, headers: dict | None = None) -> Reply:
    """The bytes, honouring one `Range: bytes=a-b` (206) like nginx, S3 or Girder do."""
    base = {"Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", **(headers or {})}
    wanted = request.headers.get("range", "")
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
    if not match or not (match.group(1) or match.group(2)):
        return Reply(200, data, base)
    first, last = match.groups()
    if first:
        start, end = int(first), min(int(last) if last else len(data) - 1, len(data) - 1)
    else:
        start, end = max(0, len(data) - int(last)), len(data) - 1
    if start >= len(data):
        return Reply(416, b"", {**base, "Content-Range": f"bytes */{len(data)}"})
    return Reply(206, data[start:end + 1], {**base, "Content-Range": f"bytes {start}-{end}/{len(data)}"})


class EmulatorServer:
    """Start with `with EmulatorServer() as server:` or `start()`/`stop()`; `url` is its base."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self.routes: list[tuple[str, re.Pattern, callable]] = []
        self.requests: list[Request] = []
        self._ssl = ssl_context
        self._httpd: QuietHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def route(self, method: str, pattern: str):
        def register(handler):
            self.routes.append((method, re.compile(pattern), handler))
            return handler
        return register

    @property
    def errors(self) -> list[BaseException]:
        """What handler threads raised (a client hanging up, a broken handler): kept, never printed."""
        return self._httpd.errors if self._httpd else []

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"

    def dispatch(self, request: Request) -> Reply:
        allowed = False
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if not match:
                continue
            allowed = True
            if method != request.method:
                continue
            request.params = match.groupdict()
            try:
                return handler(request)
            except Reply as reply:
                return reply
        return Reply(405 if allowed else 404, b"not found", content_type="text/plain")

    def start(self) -> EmulatorServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path,
                                  {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                server.requests.append(request)
                reply = server.dispatch(request)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body[:reply.truncate])
                if reply.truncate is not None:
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _handle

        self._httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        if self._ssl:
            self._httpd.socket = self._ssl.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)

    def __enter__(self) -> EmulatorServer:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def seen(self, path_fragment: str) -> list[Request]:
        """Recorded requests whose path contains `path_fragment`."""
        return [r for r in self.requests if path_fragment in r.path]


def mirror_spec(pairs: dict[str, str]) -> str:
    """A $HISTODATA_MIRRORS value: `ORIGINAL=REPLACEMENT` pairs, space separated."""
    return " ".join(f"{origin}={target}" for origin, target in pairs.items())


class Emulator:
    """Base of the service emulators: starts and stops every EmulatorServer it holds (API host,
    storage host, ...) in attribute order, and works as a context manager.

    A subclass declares the public origins it stands in for in `ORIGINS`: origin URL -> the
    attribute holding the EmulatorServer that answers for it, optionally followed by a path on
    that server (`"server/drive"`: the origin is served under /drive of `self.server`). Once
    started, `mirror_map()` routes every origin to its server and `mirrors()` is that map as a
    $HISTODATA_MIRRORS value; the `emulate` fixture (tests/conftest.py) sets it for a test.
    """

    ORIGINS: ClassVar[dict[str, str]] = {}

    def servers(self) -> list[EmulatorServer]:
        return [value for value in vars(self).values() if isinstance(value, EmulatorServer)]

    def mirror_map(self) -> dict[str, str]:
        """{origin: local URL} for every origin in ORIGINS (the servers must be running)."""
        pairs = {}
        for origin, where in self.ORIGINS.items():
            attribute, slash, path = where.partition("/")
            pairs[origin] = getattr(self, attribute).url + slash + path
        return pairs

    def mirrors(self) -> str:
        return mirror_spec(self.mirror_map())

    def start(self):
        for server in self.servers():
            server.start()
        return self

    def stop(self) -> None:
        for server in reversed(self.servers()):
            server.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Emulation:
    """The emulators of one test, reachable at their public origins: each call starts emulators and
    sets $HISTODATA_MIRRORS (through `setenv`) to the map of every one started so far plus the
    origins added with `route`; `stop()` stops them all, last started first."""

    def __init__(self, setenv):
        self._setenv = setenv
        self.emulators: list[Emulator] = []
        self.pairs: dict[str, str] = {}

    def __call__(self, *emulators: Emulator):
        for emulator in emulators:
            self.emulators.append(emulator.start())
            self.pairs.update(emulator.mirror_map())
        self._publish()
        return emulators[0] if len(emulators) == 1 else emulators

    def route(self, origin: str, target: str) -> None:
        """Map one more origin (a server the test runs itself) into the same mirror map."""
        self.pairs[origin] = target
        self._publish()

    def _publish(self) -> None:
        self._setenv("HISTODATA_MIRRORS", mirror_spec(self.pairs))

    def stop(self) -> None:
        while self.emulators:
            self.emulators.pop().stop()

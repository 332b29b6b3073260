"""A real nginx on 127.0.0.1 serving a folder: the reference for HTTP Range/If-Range/ETag.

    with NginxServer(folder) as server:   # or the `nginx` pytest fixture (serves tmp_path/"www")
        server.url_for("a.bin")           # http://127.0.0.1:PORT/a.bin
        server.slow_url_for("a.bin")      # same file, throttled to `slow_rate` bytes/s
        server.url_for("index/")          # the folder page nginx generates (autoindex), any subfolder too
        server.url_for("endless/x/")      # root/endless.html, at every path below /endless/
        server.url_for("basic/a.bin")     # same file behind HTTP basic authentication (BASIC_USER, BASIC_PASSWORD)
        server.requests()                 # the access log: method, uri, status, range, if_range ...
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BASIC_USER, BASIC_PASSWORD = "guest-user", "guest-password-9f3c"   # the /basic/ location's one account

_CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    types {{ text/html html htm; application/json json; text/plain txt; }}
    log_format histodata escape=json '{{"method":"$request_method","uri":"$request_uri",'
        '"status":$status,"range":"$http_range","if_range":"$http_if_range",'
        '"bytes_sent":$body_bytes_sent,"user_agent":"$http_user_agent","authorization":"$http_authorization"}}';
    access_log {prefix}/access.log histodata;
    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /slow/ {{ alias {root}/; limit_rate {slow_rate}; }}
        location /index/ {{ alias {root}/; autoindex on; }}
        location /endless/ {{ default_type text/html; try_files /endless.html =404; }}
        location /basic/ {{ alias {root}/; auth_basic "guest area"; auth_basic_user_file {prefix}/htpasswd; }}
    }}
}}
"""


def nginx_binary() -> str:
    """The nginx executable (installed by .ci/run with apt-get)."""
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError("nginx is not installed: apt-get install nginx-light (see .ci/run)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class NginxServer:
    """Start nginx on a free port serving `root`; stop it (and its process) on exit."""

    def __init__(self, root: str | Path, slow_rate: int = 256 * 1024):
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)
        self.slow_rate = slow_rate
        self.prefix = Path(tempfile.mkdtemp(prefix="histodata-nginx-"))
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, name: str) -> str:
        return f"{self.url}/{name}"

    def slow_url_for(self, name: str) -> str:
        return f"{self.url}/slow/{name}"

    def requests(self) -> list[dict]:
        """Requests served so far, oldest first (nginx writes each line when the response ends)."""
        log = self.prefix / "access.log"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]

    def __enter__(self) -> "NginxServer":
        for _attempt in range(5):  # a port can be taken between choosing and binding it
            self.port = free_port()
            config = self.prefix / "nginx.conf"
            (self.prefix / "htpasswd").write_text(f"{BASIC_USER}:{{PLAIN}}{BASIC_PASSWORD}\n")
            config.write_text(_CONFIG.format(prefix=self.prefix, root=self.root, port=self.port,
                                             slow_rate=self.slow_rate))
            argv = [nginx_binary(), "-p", str(self.prefix), "-e", str(self.prefix / "error.log"),
                    "-c", str(config)]
            self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_until_listening():
                return self
            self._stop()
        raise RuntimeError(f"nginx did not start: {(self.prefix / 'error.log').read_text()[-2000:]}")

    def _wait_until_listening(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.02)
        return False

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __exit__(self, *exc) -> None:
        self._stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


@pytest.fixture
def nginx(tmp_path):
    """A running nginx serving `tmp_path / "www"` (put files in `nginx.root`)."""
    with NginxServer(tmp_path / "www") as server:
        yield server

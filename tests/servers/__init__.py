"""Reusable local test servers (127.0.0.1, ports chosen by the OS). No network, no mocks.

* `servers.nginx`  — a real nginx serving a folder: Range/If-Range, ETag, Last-Modified, a
  throttled `/slow/` view; fixture `nginx` (import it into your test module or conftest:
  `from servers.nginx import nginx  # noqa: F401`).
* `servers.faults` — a scripted Python HTTP server for hostile cases (dropped connections,
  truncated bodies, 429/503 + Retry-After, HTML pages, ignored Range, wrong bytes, latency);
  fixture `fault_server`.
* `servers.ftp`    — a pyftpdlib FTP server on a folder (REST/SIZE/MDTM); fixture `ftp_server`.
* `servers.quiet`  — `QuietHTTPServer`, the ThreadingHTTPServer the Python HTTP test servers
  (faults, the emulators) build on: what a handler thread raises is kept in `server.errors`,
  never printed on stderr.

Reach them through the mirror map so the real code path runs, e.g.
`monkeypatch.setenv("HISTODATA_MIRRORS", f"https://zenodo.org={nginx.url}")`, or
`emulate.route(origin, server.url)` to join the map of a test's service emulators (tests/conftest.py).
"""

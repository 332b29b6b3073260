"""Fixtures of the security suite (helpers live in hostile.py)."""
from __future__ import annotations

import pytest
from servers.nginx import NginxServer

from .hostile import ORIGIN, Site


@pytest.fixture
def site(tmp_path, monkeypatch, extra_registry):
    with NginxServer(tmp_path / "www") as server:
        monkeypatch.setenv("HISTODATA_MIRRORS", f"{ORIGIN}={server.url}")
        monkeypatch.setenv("HISTODATA_BACKOFF", "0")
        monkeypatch.setenv("HISTODATA_RETRIES", "1")
        yield Site(server, extra_registry)

"""Fixtures for the download engine tests: real nginx, the fault server, an FTP server."""
from __future__ import annotations

import hashlib
import os

import pytest
from helpers import md5, run_cli, sha256  # noqa: F401  (the tests of this folder import them from here)
from servers.faults import fault_server  # noqa: F401
from servers.ftp import ftp_server  # noqa: F401
from servers.nginx import nginx  # noqa: F401


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """Retries without the production backoff (the policy still runs, only shorter)."""
    monkeypatch.setenv("HISTODATA_BACKOFF", "0.01")
    monkeypatch.setenv("HISTODATA_RETRIES", "4")


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating, incompressible bytes (sizes on the wire are real)."""
    return hashlib.shake_256(f"histodata-{seed}".encode()).digest(size)


def leftovers(folder) -> list[str]:
    """Files in `folder` other than the lock files (partials, sidecars, temp files)."""
    return sorted(name for name in os.listdir(folder) if not name.endswith(".lock"))

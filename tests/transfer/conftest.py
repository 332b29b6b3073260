"""Fixtures for the download engine tests: real nginx, the fault server, an FTP server."""
from __future__ import annotations

import hashlib
import os

import pytest
from servers.faults import fault_server  # noqa: F401
from servers.ftp import ftp_server  # noqa: F401
from servers.nginx import nginx  # noqa: F401


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    """Retries without the production backoff (the policy still runs, only shorter)."""
    monkeypatch.setenv("HISTODATA_BACKOFF", "0.01")
    monkeypatch.setenv("HISTODATA_RETRIES", "4")


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes that do not compress (so sizes on the wire are real)."""
    out = bytearray()
    block = hashlib.sha512(str(seed).encode()).digest()
    while len(out) < size:
        block = hashlib.sha512(block).digest()
        out += block
    return bytes(out[:size]) if size < 1 << 20 else bytes(out[:1 << 20]) * (size >> 20) + bytes(out[:size % (1 << 20)])


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder) -> list[str]:
    """Files in `folder` other than the lock files (partials, sidecars, temp files)."""
    return sorted(name for name in os.listdir(folder) if not name.endswith(".lock"))

"""Shared fixtures: every test gets its own data root, cache and empty mirror map."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # `helpers`, `servers` and `emulators` import as top-level modules

from emulators.service import Emulation  # noqa: E402
from helpers import write_entry  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HISTODATA_HOME", str(home))
    monkeypatch.setenv("HISTODATA_CACHE", str(tmp_path / "cache"))
    for name in ("HISTODATA_REGISTRY", "HISTODATA_MIRRORS", "HISTODATA_OFFLINE", "ZENODO_TOKEN",
                 "GRAND_CHALLENGE_AUTHORIZATION", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN",
                 "GIRDER_API_KEY", "GDC_TOKEN", "GDC_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    monkeypatch.setenv("HISTODATA_BACKOFF", "0.01")  # the retry policy runs, without production delays
    from histodata.registry import loader

    loader.clear_cache()
    yield home
    loader.clear_cache()


@pytest.fixture
def extra_registry(tmp_path, monkeypatch):
    """A folder joined to the registry through $HISTODATA_REGISTRY; returns a writer."""
    folder = tmp_path / "extra-registry"
    folder.mkdir()
    monkeypatch.setenv("HISTODATA_REGISTRY", str(folder))

    def add(text: str) -> Path:
        from histodata.registry import loader

        loader.clear_cache()
        return write_entry(folder, text)

    add.folder = folder
    return add


@pytest.fixture
def emulate(monkeypatch):
    """Service emulators for this test, reached at their public origins through $HISTODATA_MIRRORS;
    stopped after the test.

        zen = emulate(ZenodoEmulator())                     # started, its origins mapped
        zen, doi = emulate(ZenodoEmulator(), DoiResolver())   # one map for both
        emulate.route("https://storage.example.net", server.url)   # a server the test runs itself

    Every call adds to the same map, so fixtures and the test can each start their own emulators.
    """
    emulation = Emulation(monkeypatch.setenv)
    yield emulation
    emulation.stop()

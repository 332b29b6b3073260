"""Shared fixtures: every test gets its own data root, cache and empty mirror map."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # helpers such as `servers` and `emulators` import as top-level


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HISTODATA_HOME", str(home))
    monkeypatch.setenv("HISTODATA_CACHE", str(tmp_path / "cache"))
    for name in ("HISTODATA_REGISTRY", "HISTODATA_MIRRORS", "HISTODATA_OFFLINE", "ZENODO_TOKEN",
                 "GRAND_CHALLENGE_AUTHORIZATION", "KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN",
                 "GIRDER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
    from histodata.registry import loader

    loader.clear_cache()
    yield home
    loader.clear_cache()


def write_entry(folder: Path, text: str) -> Path:
    """Write a YAML entry (dedented) into `folder`, named after its id."""
    text = textwrap.dedent(text).strip() + "\n"
    entry_id = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("id:"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry_id}.yaml"
    path.write_text(text)
    return path


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


def run_cli(*args: str, env: dict | None = None, input: str | None = None):
    """Run `python -m histodata ARGS` in a subprocess (the real entry point, real exit codes)."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "histodata", *args], capture_output=True, text=True,
                          env=full_env, input=input, timeout=300)

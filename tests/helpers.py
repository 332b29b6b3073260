"""Helpers shared by the test folders: import them with `from helpers import ...`.

(Not `from conftest import ...`: several test folders have a conftest module of their own.)
"""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path


def write_entry(folder: Path, text: str) -> Path:
    """Write a YAML entry (dedented) into `folder`, named after its id."""
    text = textwrap.dedent(text).strip() + "\n"
    entry_id = next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("id:"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entry_id}.yaml"
    path.write_text(text)
    return path


def run_cli(*args: str, env: dict | None = None, input: str | None = None):
    """Run `python -m histodata ARGS` in a subprocess (the real entry point, real exit codes)."""
    import subprocess

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "histodata", *args], capture_output=True, text=True,
                          env=full_env, input=input, timeout=300)

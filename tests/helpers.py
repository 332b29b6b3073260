"""Helpers shared by the test folders: import them with `from helpers import ...`.

(Not `from conftest import ...`: several test folders have a conftest module of their own.)
"""
from __future__ import annotations

import hashlib
import os
import subprocess
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


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- the CLI in a process
def run_cli(*args: str, env: dict | None = None, input: str | None = None):
    """Run `python -m histodata ARGS` in a subprocess (the real entry point, real exit codes)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "histodata", *args], capture_output=True, text=True,
                          env=full_env, input=input, timeout=300)


# `python -c LIMITED_WRITES LIMIT ARGS...` runs the CLI with RLIMIT_FSIZE set inside the child
# (thread-safe, unlike preexec_fn): writes past LIMIT bytes fail with EFBIG, as on a full disk.
LIMITED_WRITES = ("import resource, runpy, sys; "
                  "resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv.pop(1)), resource.RLIM_INFINITY)); "
                  "sys.argv[0] = 'histodata'; runpy.run_module('histodata', run_name='__main__', alter_sys=True)")


def start_cli(*args: str, env: dict | None = None, max_file_size: int | None = None, **popen) -> subprocess.Popen:
    """`histodata ARGS` started in a new process (stdout and stderr piped, as text); with
    `max_file_size`, no file it writes may grow past that many bytes (see LIMITED_WRITES)."""
    command = ["-c", LIMITED_WRITES, str(max_file_size)] if max_file_size else ["-m", "histodata"]
    return subprocess.Popen([sys.executable, *command, *args], env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def finish(process: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    """Wait for a process from `start_cli`: (exit code, stdout, stderr); killed if it outlives `timeout`."""
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err


# ----------------------------------------------------------------------------- secrets
def assert_secrets_absent(secrets, *texts: str, root=None) -> None:
    """No secret appears in any text (stdout, stderr) nor in any file under `root`."""
    secrets = [s for s in secrets if s]
    for text in texts:
        for secret in secrets:
            assert secret not in text, "a secret leaked into the output"
    if root is not None:
        for path in Path(root).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, f"a secret leaked into {path}"

"""Progress bars appear on a terminal and nowhere else."""
from __future__ import annotations

import os
import pty
import subprocess
import sys

from .conftest import md5, payload, run_cli

DATA = payload(3 << 20, seed=21)


def run_with_terminal_stderr(*args: str) -> tuple[int, str, str]:
    """Run the CLI with standard error on a pseudo-terminal; (exit code, stdout, terminal text)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    with subprocess.Popen([sys.executable, "-m", "histodata", *args], stdout=subprocess.PIPE,
                          stderr=follower, env=env) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the process ends
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = process.stdout.read().decode()
    os.close(leader)
    return process.returncode, stdout, b"".join(chunks).decode(errors="replace")


def test_progress_bar_on_a_terminal(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA)
    code, stdout, terminal = run_with_terminal_stderr("download", url, "-o", str(tmp_path / "a.bin"),
                                                      "--md5", md5(DATA), "--json")
    assert code == 0 and '"verified"' in stdout
    assert "a.bin" in terminal and "3.1/3.1 MB" in terminal  # rich's DownloadColumn at the end


def test_no_progress_when_not_a_terminal_or_quiet(fault_server, tmp_path):
    url = fault_server.add("/a.bin", DATA)
    result = run_cli("download", url, "-o", str(tmp_path / "a.bin"))
    assert result.returncode == 0
    assert result.stderr.startswith("saved ") and result.stderr.count("\n") == 1
    code, _stdout, terminal = run_with_terminal_stderr("download", url, "-o", str(tmp_path / "b.bin"),
                                                       "--quiet")
    assert code == 0 and "MB" not in terminal.replace("bytes", "") and terminal.startswith("saved ")

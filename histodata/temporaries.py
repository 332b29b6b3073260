"""Hidden temporaries that name their owner, and reclaiming those whose owner is dead.

A temporary file or folder is named `.<name>.<pid>@<host>.<random>.tmp`, so a later run on the same
host can tell that the process which made it is gone (`kill -9`, a power cut) and remove it, instead
of leaving it on disk forever:

    tmp = temporaries.beside(path)          # .manifest.parquet.4242@host.k3j2.tmp
    temporaries.reclaim(folder)             # removes the dead owners' temporaries in `folder`
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
from pathlib import Path

from .locking import pid_alive

_PATTERN = re.compile(r"\.(\d+)@([A-Za-z0-9_-]{1,40})\.[0-9a-z]{1,16}\.tmp$")
_done: set[tuple[int, str]] = set()   # (pid, folder) already reclaimed by this process


def host() -> str:
    """This machine's name as it goes into temporary names."""
    return (re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0]) or "host")[:40]


def tag() -> str:
    """`<pid>@<host>.<random>.tmp`: the owner part of a temporary's name."""
    return f"{os.getpid()}@{host()}.{secrets.token_hex(3)}.tmp"


def beside(path: str | os.PathLike, prefix: str = "") -> Path:
    """A hidden temporary name next to `path` (same folder, so a rename into place is atomic)."""
    path = Path(path)
    return path.with_name(f".{prefix}{path.name}.{tag()}")


def owner_is_dead(name: str) -> bool:
    """True only for a temporary of this host whose process no longer exists."""
    match = _PATTERN.search(name)
    if not match or match.group(2) != host() or os.name == "nt":   # os.kill(pid, 0) would end it on Windows
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return False
    return not pid_alive(pid) or _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed child not yet waited for still has a pid; it will never write again."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def reclaim(folder: str | os.PathLike, *, once: bool = True) -> list[str]:
    """Remove the hidden temporaries in `folder` (not below it) whose owner is dead; returns their
    names. With `once`, a folder is looked at once per process (temporaries of the dead do not
    appear while we run)."""
    folder = str(folder)
    if once:
        if (os.getpid(), folder) in _done:
            return []
        _done.add((os.getpid(), folder))
    removed = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(".") and e.name.endswith(".tmp")]
    except OSError:
        return removed
    for entry in entries:
        if not owner_is_dead(entry.name):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
        except OSError:
            continue
    return removed

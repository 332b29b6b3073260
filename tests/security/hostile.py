"""Shared pieces of the security suite: a hostile web site behind the mirror map, hostile archive
builders, and a snapshot of the file tree to prove nothing was written where it should not be."""
from __future__ import annotations

import contextlib
import io
import logging
import os
import stat
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from emulators.entries import entry_yaml
from servers.nginx import NginxServer

ORIGIN = "https://data.example.org"


# ----------------------------------------------------------------------------- the file tree
def snapshot(root: Path, *excluded: Path) -> dict[str, tuple]:
    """Every path under `root` (links not followed) with its type, size and mtime, except the
    `excluded` subtrees: compare two snapshots to see what a command wrote."""
    skip = {str(p) for p in excluded}
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in skip]
        for name in dirs + files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            found[os.path.relpath(path, root)] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns)
    return found


def written_between(before: dict, after: dict) -> list[str]:
    """Paths that appeared or changed between two snapshots."""
    return sorted(p for p, facts in after.items() if before.get(p) != facts
                  and not (stat.S_ISDIR(facts[0]) and p in before))


def files_under(root: Path):
    """Every regular file under `root` (not following links)."""
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


# ----------------------------------------------------------------------------- archives
def zip_bytes(members: list[tuple[str, bytes]], *, symlinks: dict[str, str] | None = None,
              specials: dict[str, int] | None = None, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, data) members, plus symlink members {name: target} and members of other
    file types {name: stat.S_IFCHR ...}, with their Unix mode as Info-ZIP writes it."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as zf:
        warnings.simplefilter("ignore")   # duplicate names are part of some attacks
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            info.create_system = 3   # unix
            zf.writestr(info, target)
        for name, kind in (specials or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr, info.create_system = (kind | 0o644) << 16, 3
            zf.writestr(info, b"")
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression
            zf.writestr(info, data)
    return buffer.getvalue()


def tar_member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = kind, link, len(data), 0o644
    return info, data


def tar_bytes(members: list[tuple], mode: str = "w:gz") -> bytes:
    """A tar (compressed per `mode`) of `tar_member(...)` tuples."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode, format=tarfile.GNU_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data else None)
    return buffer.getvalue()


def png_bytes(color: str = "red") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), color).save(buffer, "PNG")
    return buffer.getvalue()


PNG = png_bytes()
BENIGN = [("tiles/tumor/a.png", PNG), ("tiles/normal/b.png", PNG)]


# ----------------------------------------------------------------------------- a hostile web site
class Site:
    """nginx serving files at ORIGIN (through $HISTODATA_MIRRORS), and the entries that use them."""

    def __init__(self, server: NginxServer, register):
        self.server = server
        self.register = register

    @property
    def root(self) -> Path:
        return self.server.root

    def put(self, name: str, data: bytes) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return f"{ORIGIN}/{name}"

    def entry(self, dataset_id: str, files: dict[str, bytes], standardize: str | None = "folder-per-class",
              **fields) -> None:
        """An http-kind entry serving `files` (name -> bytes), standardized with `standardize`."""
        specs = [{"name": name, "url": self.put(f"{dataset_id}/{name}", data)} for name, data in files.items()]
        extra = {"standardize": {"with": standardize}} if standardize else {}
        self.register(entry_yaml(dataset_id, {"kind": "http", "files": specs}, **extra, **fields))


# ----------------------------------------------------------------------------- the CLI, in process
@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> CliResult:
    """`histodata ARGS` through the real entry point (histodata.cli.main) in this process: the same
    code path, exit status and messages as the command, without a new interpreter per case."""
    from histodata.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    for name in ("histodata", "urllib3"):       # main() bound handlers to the captured stream
        logging.getLogger(name).handlers.clear()
    return CliResult(code, out.getvalue(), err.getvalue())

"""`kind: ftp` — files with their own ftp:// URLs, or every file under an FTP `folder`.

A folder is listed with MLSD (names, types and sizes in one answer per folder); on a server without
MLSD, with a Unix-style LIST (the same facts in `ls -l` lines), else with NLST and a SIZE per name
(a name without a size is a folder). FTP servers publish no checksums: a listed file is checked by
its size, or by the registry's pins for its name.
"""
from __future__ import annotations

import ftplib
import posixpath
import re
from urllib.parse import quote, urlsplit

from ..transfer.ftp_transport import connect, ftp_error
from ..transfer.retry import RetryableError, RetryPolicy
from ..transfer.transport import display_url
from .base import RemoteFile, files_from_specs, listed_plus_given, safe_relative_path
from .pager import walk_tree


def list_files(source, session, entry) -> list[RemoteFile]:
    """The folder's files (and the registry's files with their own URL) when the source names one,
    else the registry's files as they are."""
    given = files_from_specs(source, "ftp")
    if not getattr(source, "folder", None):
        return given
    return listed_plus_given(folder_files(source.folder, session), given)


def folder_files(folder_url: str, session=None) -> list[RemoteFile]:
    """Every file under `folder_url` (any depth), named by its path below it; a dropped connection
    or a busy server (4xx) is retried by the shared policy, the whole listing again."""
    policy, failed = RetryPolicy.from_env(), 0
    while True:
        try:
            return _list_folder(folder_url, session)
        except RetryableError as err:
            failed += 1
            policy.wait(failed, err)


def _list_folder(folder_url: str, session) -> list[RemoteFile]:
    base = folder_url.rstrip("/") + "/"
    mapped = session.map_url(base) if hasattr(session, "map_url") else base
    named = display_url(base) if mapped == base else f"{display_url(base)} (mirror {display_url(mapped)})"
    ftp, root = connect(mapped, named)
    service = f"the FTP folder {urlsplit(base).hostname}{urlsplit(base).path}"
    try:
        def children(folder: str, where: str):
            for name, is_folder, size in _entries(ftp, folder):
                path = posixpath.join(folder, name)
                yield (path if is_folder else size), posixpath.join(where, name), is_folder

        return [RemoteFile(name=safe_relative_path(where), url=base + quote(where), size=size,
                           source_kind="ftp")
                for where, size in walk_tree(service, root.rstrip("/") or "/", children)]
    except ftplib.all_errors as err:
        raise ftp_error(err, named) from None
    finally:
        ftp.close()


def _entries(ftp: ftplib.FTP, folder: str):
    """(name, is_folder, size or None) for each entry of one folder."""
    try:
        facts = list(ftp.mlsd(folder, facts=["type", "size"]))
    except ftplib.error_perm as err:
        if not _unsupported(err):
            raise
        yield from _entries_from_list(ftp, folder)
        return
    for name, fact in facts:
        kind = fact.get("type", "").lower()
        if kind in ("cdir", "pdir") or name in (".", "..") or "/" in name:
            continue
        size = fact.get("size")
        yield name, kind == "dir", int(size) if size and size.isdigit() else None


def _unsupported(err: ftplib.error_perm) -> bool:
    """A reply that says the server does not know the command (500-504), not that it refused it."""
    return str(err)[:3] in ("500", "501", "502", "504")


# "drwxr-xr-x 2 owner group 4096 Mar 13 10:00 name" / "-rw-r--r-- 1 0 0 12345 Mar 13  2024 a b.png"
_LS_LINE = re.compile(r"^([dl-])[rwxsStT-]{9}\S*\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w{3}\s+\d{1,2}\s+[\d:]{4,5}\s(.+)$")


def _entries_from_list(ftp: ftplib.FTP, folder: str):
    """LIST's `ls -l` lines; any line in another format sends the folder to NLST and SIZE."""
    lines: list[str] = []
    try:
        ftp.retrlines(f"LIST {folder}", lines.append)
    except ftplib.error_perm as err:
        if not _unsupported(err):
            raise
        lines = ["?"]
    parsed = [_LS_LINE.match(line) for line in lines if line.strip() and not line.startswith("total ")]
    if not all(parsed):
        yield from _entries_without_list(ftp, folder)
        return
    for found in parsed:
        kind, size, name = found.groups()
        if kind == "l":
            name = name.split(" -> ")[0]
        if name in (".", "..") or "/" in name:
            continue
        yield name, kind == "d", int(size) if kind == "-" else None


def _entries_without_list(ftp: ftplib.FTP, folder: str):
    listing = ftp.nlst(folder)
    ftp.voidcmd("TYPE I")                   # NLST switched to ASCII, where servers refuse SIZE
    for listed in listing:
        name = posixpath.basename(listed.rstrip("/"))
        if name in ("", ".", ".."):
            continue
        try:
            yield name, False, ftp.size(posixpath.join(folder, name))
        except ftplib.error_perm:
            yield name, True, None

"""Extraction: members are written into a temporary folder beside the target and then moved into
place, so an interrupted run leaves nothing half-written; a marker file records which archive
(size + sha256) was extracted, so a second run with nothing new does nothing. Single-file `.gz`
is decompressed under the same budget.
"""
from __future__ import annotations

import errno
import gzip
import json
import mmap
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import constants
from ..errors import HistodataError, UnsafeArchiveError
from .members import (
    _READ_ERRORS,
    Limits,
    Member,
    _members_of,
    _open_archive,
    _refuse,
    archive_stem,
    check_members,
    top_names,
)

MARKER_NAME = ".histodata-extracted.json"
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Extraction:
    """Where an archive went: `folder` holds its members; `tops` are its top-level names."""

    folder: Path
    tops: tuple[str, ...]
    changed: bool


_FAST_MAX = 16 << 20   # members up to this size are inflated in memory, straight from the archive map


def _zip_write(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: str) -> None:
    with zf.open(info) as src, open(dest, "wb", opener=_open_no_follow) as out:
        shutil.copyfileobj(src, out, _COPY_CHUNK)  # zipfile stops at the declared size and checks the CRC


def _zip_payload(view: memoryview, info: zipfile.ZipInfo) -> bytes | None:
    """The member's bytes read straight from the mapped archive (stored or deflated, not
    encrypted, small), checked against its declared size and CRC; None to use zipfile instead."""
    if info.flag_bits & 1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) \
            or info.file_size > _FAST_MAX:
        return None
    start = info.header_offset
    header = bytes(view[start:start + 30])
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
    data_start = start + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    raw = bytes(view[data_start:data_start + info.compress_size])
    if len(raw) != info.compress_size:
        raise zipfile.BadZipFile(f"truncated member {info.filename!r}")
    if info.compress_type == zipfile.ZIP_STORED:
        data = raw
    else:
        inflater = zlib.decompressobj(-15)
        data = inflater.decompress(raw, info.file_size + 1)
    if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
        raise zipfile.BadZipFile(f"bad size or CRC for {info.filename!r}")
    return data


def _open_no_follow(path: str, flags: int) -> int:
    """os.open that never writes through a symlink at the final name (defence in depth)."""
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o644)


def _write_bytes(dest: str, data: bytes) -> None:
    fd = _open_no_follow(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _extract_zip(zf: zipfile.ZipFile, members: list[Member], tmp: Path) -> None:
    """Folders first, then links, then files."""
    root = str(tmp)
    files = []
    folders = set()
    for info, member in zip(zf.infolist(), members):
        dest = os.path.join(root, *member.parts)
        if member.kind == "dir":
            folders.add(dest)
            continue
        folders.add(os.path.dirname(dest))
        files.append((info, member, dest))
    for folder in sorted(folders):
        os.makedirs(folder, exist_ok=True)
    links = [(m, d) for _, m, d in files if m.kind == "symlink"]
    for member, dest in links:  # checked to stay inside: written as real links
        os.symlink(member.link, dest)
    real_root = os.path.realpath(root)
    for member, dest in links:  # resolved together: links each harmless alone may chain outside
        resolved = os.path.realpath(dest)
        if resolved != real_root and not resolved.startswith(real_root + os.sep):
            raise _refuse(Path(zf.filename), member.name,
                          f"is a link that resolves outside the target through other links ({member.link!r})")

    regular = [(i, d) for i, m, d in files if m.kind != "symlink"]
    if not regular:
        return
    with open(zf.filename, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        view = memoryview(mapped)
        try:
            for info, dest in regular:
                data = _zip_payload(view, info)
                if data is None:
                    _zip_write(zf, info, dest)
                else:
                    _write_bytes(dest, data)
        finally:
            view.release()


def _extract_tar(tf: tarfile.TarFile, tmp: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        tf.extractall(tmp, filter="data")
    else:  # Python < 3.11.4: every member was validated by check_members
        tf.extractall(tmp)  # noqa: S202


def _move_into_place(tmp: Path, target: Path) -> None:
    """Move every entry of `tmp` into `target`, merging folders that already exist."""
    target.mkdir(parents=True, exist_ok=True)
    for child in tmp.iterdir():
        dest = target / child.name
        if dest.is_dir() and child.is_dir() and not child.is_symlink():
            _move_into_place(child, dest)
        else:  # a newer member replaces what was there, whatever its type
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            elif dest.is_symlink() or (dest.exists() and child.is_dir()):
                dest.unlink()
            os.replace(child, dest)


def _fingerprint(archive: Path, sha256: str | None) -> dict:
    st = archive.stat()
    return {"size": st.st_size, "sha256": sha256} if sha256 else {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_marker(target: Path) -> dict:
    try:
        marker = json.loads((target / MARKER_NAME).read_text())
        return marker if isinstance(marker, dict) else {}
    except (FileNotFoundError, ValueError):
        return {}


def _write_marker(target: Path, marker: dict) -> None:
    tmp = target / f"{MARKER_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(marker, indent=1, sort_keys=True))
    os.replace(tmp, target / MARKER_NAME)


def _marker_entry(archive: Path, target: Path, sha256: str | None) -> dict | None:
    """The marker entry of this very archive in `target`, if it was extracted there."""
    entry = _read_marker(target).get(archive.name)
    fingerprint = _fingerprint(archive, sha256)
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in fingerprint.items()):
        return entry
    return None


def already_extracted(archive: str | os.PathLike, target: str | os.PathLike, sha256: str | None = None) -> bool:
    """True when the marker in `target` says this very archive was extracted there."""
    return _marker_entry(Path(archive), Path(target), sha256) is not None


def extract(archive: str | os.PathLike, target: str | os.PathLike, *, sha256: str | None = None,
            limits: Limits | None = None, wrap_loose: bool = False) -> Extraction:
    """Extract `archive` safely into `target`, once.

    `sha256` (from the dataset record) identifies the archive in the marker; without it the size
    and modification time do. With `wrap_loose`, an archive that is not one top folder goes into
    `target/<archive stem>/` so archives never mix their members.
    """
    archive, target = Path(archive), Path(target)
    done = _marker_entry(archive, target, sha256)
    if done is not None:
        return Extraction(target / done.get("into", ""), tuple(done.get("tops", ())), False)
    limits = limits or Limits.from_env()
    with _open_archive(archive) as handle:
        members = _members_of(handle, archive)
        check_members(archive, members, limits)
        tops, single_folder = top_names(members)
        into = archive_stem(archive) if wrap_loose and not single_folder else ""
        target.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target))
        try:
            try:
                if isinstance(handle, zipfile.ZipFile):
                    _extract_zip(handle, members, tmp)
                else:
                    _extract_tar(handle, tmp)
            except _READ_ERRORS as err:
                if isinstance(err, getattr(tarfile, "FilterError", ())):
                    raise _refuse(archive, getattr(getattr(err, "tarinfo", None), "name", "?"), str(err)) from err
                raise _disk_full(archive, target, err) or UnsafeArchiveError(
                    f"cannot extract {archive.name}: {err}.", "The archive may be corrupt; fetch it again.") from err
            _move_into_place(tmp, target / into)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    marker = _read_marker(target)
    marker[archive.name] = {**_fingerprint(archive, sha256), "tops": list(tops), "into": into}
    _write_marker(target, marker)
    return Extraction(target / into, tops, True)


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _disk_full(archive: Path, target: Path, err: BaseException) -> HistodataError | None:
    """The error for a full disk (or a file size limit) while unpacking, which is not the archive's fault."""
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        return HistodataError(f"cannot unpack {archive.name} into {target}: the disk is full ({err.strerror}).",
                              "Free some space and run the same command again; nothing was left half-unpacked.")
    return None


def gunzip(source: str | os.PathLike, dest: str | os.PathLike, *, sha256: str | None = None,
           limits: Limits | None = None) -> bool:
    """Decompress a single-file `.gz` into `dest` (atomically, once); False when already done."""
    source, dest = Path(source), Path(dest)
    if _marker_entry(source, dest.parent, sha256) is not None and dest.exists():
        return False
    limits = limits or Limits.from_env()
    budget = min(limits.max_bytes, int(max(source.stat().st_size, 1 << 20) * limits.max_ratio))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    written = 0
    try:
        with gzip.open(source, "rb") as src, open(tmp, "wb") as out:
            while chunk := src.read(_COPY_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise _refuse(source, source.name, f"expands beyond {budget} bytes (set "
                                  f"{constants.ENV_ARCHIVE_MAX_RATIO} or {constants.ENV_ARCHIVE_MAX_BYTES} "
                                  "to allow more)")
                out.write(chunk)
        os.replace(tmp, dest)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise _disk_full(source, dest.parent, err) or UnsafeArchiveError(
            f"cannot decompress {source.name}: {err}.", "The file may be incomplete or corrupt; fetch it again.") from err
    finally:
        tmp.unlink(missing_ok=True)
    marker = _read_marker(dest.parent)
    marker[source.name] = _fingerprint(source, sha256)
    _write_marker(dest.parent, marker)
    return True

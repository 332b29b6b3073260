"""Extraction: members are written into a temporary folder inside the target (named after its
owner, so a later run reclaims it when the owner was killed) and then moved into place, so an
interrupted run leaves nothing half-written; a marker file records which archive (raw path,
size + sha256) was extracted, so a second run with nothing new does nothing. Archives inside the
archive are extracted too when asked, within the same budget.
"""
from __future__ import annotations

import errno
import filecmp
import json
import mmap
import os
import shutil
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import temporaries
from ..errors import ExtractionCollisionError, HistodataError, UnsafeArchiveError
from .members import (
    _READ_ERRORS,
    Budget,
    Limits,
    Member,
    _members_of,
    _open_archive,
    _refuse,
    archive_stem,
    check_members,
    is_archive,
    top_names,
)

MARKER_NAME = ".histodata-extracted.json"
MAX_NESTING = 3          # an archive, the archives in it, and the archives in those
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


def _same_content(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
    return a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)


def _collision(archive: Path, target: Path, dest: Path) -> HistodataError:
    return ExtractionCollisionError(
        f"cannot extract {archive.name}: {os.path.relpath(dest, target.parent)} is already there and differs "
        "(another archive or file put it there).",
        "Nothing was replaced or deleted. Two raw files unpack to the same place: report the entry, or "
        "remove the folder in the way and run the same command again.")


def _move_into_place(tmp: Path, target: Path, archive: Path, replace: bool) -> None:
    """Move every entry of `tmp` into `target`, merging folders that already exist. A file already
    there is replaced only when it is this archive's own earlier version (`replace`) or identical;
    anything else is a collision, and nothing is ever deleted to make room."""
    target.mkdir(parents=True, exist_ok=True)
    for child in tmp.iterdir():
        dest = target / child.name
        if not os.path.lexists(dest):
            os.replace(child, dest)
            continue
        dest_dir, child_dir = dest.is_dir() and not dest.is_symlink(), child.is_dir() and not child.is_symlink()
        if dest_dir and child_dir:
            _move_into_place(child, dest, archive, replace)
        elif not dest_dir and (replace or _same_content(child, dest)):
            if child_dir or dest.is_symlink():
                dest.unlink()
            os.replace(child, dest)
        else:
            raise _collision(archive, target, dest)


def _fingerprint(archive: Path, sha256: str | None) -> dict:
    st = archive.stat()
    return {"size": st.st_size, "sha256": sha256} if sha256 else {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_marker(target: Path) -> dict:
    try:
        marker = json.loads((target / MARKER_NAME).read_text())
        return marker if isinstance(marker, dict) else {}
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return {}


def _write_marker(target: Path, marker: dict) -> None:
    tmp = temporaries.beside(target / MARKER_NAME)
    try:
        tmp.write_text(json.dumps(marker, indent=1, sort_keys=True))
        os.replace(tmp, target / MARKER_NAME)
    finally:
        tmp.unlink(missing_ok=True)


def _marker_entry(archive: Path, target: Path, sha256: str | None, key: str | None = None) -> dict | None:
    """The marker entry of this very archive in `target`, if it was extracted there."""
    entry = _read_marker(target).get(key or archive.name)
    fingerprint = _fingerprint(archive, sha256)
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in fingerprint.items()):
        return entry
    return None


def already_extracted(archive: str | os.PathLike, target: str | os.PathLike, sha256: str | None = None,
                      key: str | None = None) -> bool:
    """True when the marker in `target` says this very archive was extracted there."""
    return _marker_entry(Path(archive), Path(target), sha256, key) is not None


def _unpack(handle, members: list[Member], folder: Path, archive: Path) -> None:
    """Write the (checked) members into `folder`."""
    try:
        if isinstance(handle, zipfile.ZipFile):
            _extract_zip(handle, members, folder)
        else:
            _extract_tar(handle, folder)
    except _READ_ERRORS as err:
        if isinstance(err, getattr(tarfile, "FilterError", ())):
            raise _refuse(archive, getattr(getattr(err, "tarinfo", None), "name", "?"), str(err)) from err
        raise disk_full(archive, folder.parent, err) or UnsafeArchiveError(
            f"cannot extract {archive.name}: {err}.", "The archive may be corrupt; fetch it again.") from err


def _expand_nested(folder: Path, outer: Path, budget: Budget, depth: int) -> None:
    """Replace every archive below `folder` by a folder of its members (named like the archive
    without its suffix), recursively, within the outer archive's budget and `MAX_NESTING` levels."""
    found = sorted(Path(root, name) for root, _, files in os.walk(folder) for name in files
                   if is_archive(name) and not os.path.islink(os.path.join(root, name)))
    for path in found:
        inner = os.path.relpath(path, folder)
        if depth >= MAX_NESTING:
            raise _refuse(outer, inner, f"is an archive nested more than {MAX_NESTING} levels deep")
        tmp = path.with_name(f".nested.{temporaries.tag()}")
        with _open_archive(path) as handle:
            members = _members_of(handle, path)
            check_members(path, members, budget.limits, budget)
            tops, single_folder = top_names(members)
            tmp.mkdir()
            _unpack(handle, members, tmp, path)
        path.unlink()   # the archive stands for its members (raw/ keeps the outer file)
        dest = path.with_name(archive_stem(path))
        if os.path.lexists(dest):
            dest = path   # a member already has the stem's name: the folder takes the archive's name
        own = single_folder and tops == (archive_stem(path),)
        os.replace(tmp / tops[0] if own else tmp, dest)
        shutil.rmtree(tmp, ignore_errors=True)
        _expand_nested(dest, outer, budget, depth + 1)


def extract(archive: str | os.PathLike, target: str | os.PathLike, *, sha256: str | None = None,
            limits: Limits | None = None, wrap_loose: bool = False, key: str | None = None,
            own_folder: bool = False, nested: bool = False) -> Extraction:
    """Extract `archive` safely into `target`, once.

    `sha256` (from the dataset record) identifies the archive in the marker, under `key` (the raw
    path; default the file name); without it the size and modification time do. With
    `wrap_loose`, an archive that is not one top folder goes into `target/<archive stem>/` so
    archives never mix their members. With `own_folder`, `target` is this archive's own folder:
    an archive that is one folder of that name is not nested a second time. With `nested`,
    archives among the members are extracted too (`_expand_nested`). A member that would land on
    a different file already there is a collision (`ExtractionCollisionError`), never a deletion.
    """
    archive, target = Path(archive), Path(target)
    done = _marker_entry(archive, target, sha256, key)
    if done is not None:
        return Extraction(target / done.get("into", ""), tuple(done.get("tops", ())), False)
    replace = isinstance(_read_marker(target).get(key or archive.name), dict)   # our own earlier version
    limits = limits or Limits.from_env()
    budget = Budget.of(archive, limits)
    with _open_archive(archive) as handle:
        members = _members_of(handle, archive)
        check_members(archive, members, limits, budget)
        tops, single_folder = top_names(members)
        into = archive_stem(archive) if wrap_loose and not single_folder else ""
        strip = own_folder and single_folder and tops == (target.name,)
        target.mkdir(parents=True, exist_ok=True)
        temporaries.reclaim(target)
        tmp = target / f".extract.{temporaries.tag()}"
        try:
            tmp.mkdir()
            _unpack(handle, members, tmp, archive)
            if nested and any(m.kind == "file" and is_archive(m.name) for m in members):
                try:
                    _expand_nested(tmp, archive, budget, 1)
                except OSError as err:
                    raise disk_full(archive, target, err) or UnsafeArchiveError(
                        f"cannot extract the archives inside {archive.name}: {err}.",
                        "The archive may be corrupt; fetch it again.") from err
            _move_into_place(tmp / tops[0] if strip else tmp, target / into, archive, replace)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    marker = _read_marker(target)
    marker[key or archive.name] = {**_fingerprint(archive, sha256), "tops": list(tops), "into": into}
    _write_marker(target, marker)
    return Extraction(target / into, tops, True)


_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def disk_full(archive: Path, target: Path, err: BaseException) -> HistodataError | None:
    """The error for a full disk (or a file size limit) while unpacking, which is not the archive's fault."""
    if isinstance(err, OSError) and err.errno in _DISK_FULL:
        return HistodataError(f"cannot unpack {archive.name} into {target}: the disk is full ({err.strerror}).",
                              "Free some space and run the same command again; nothing was left half-unpacked.")
    return None

"""Archive members and the checks made before a byte is written (zip, tar, tar.gz/bz2/xz).

Every member is checked: absolute paths, `..`, drive letters, links that point outside the
target, device files and FIFOs are refused with one `UnsafeArchiveError` naming the member; total
size, member count and compression ratio are bounded (the bomb guard, `Limits`).
"""
from __future__ import annotations

import os
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from .. import constants
from ..errors import UnsafeArchiveError

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")


@dataclass(frozen=True)
class Limits:
    """Bomb guard: the most an archive may expand to. Override with `Limits(...)` or the env vars
    HISTODATA_ARCHIVE_MAX_BYTES / HISTODATA_ARCHIVE_MAX_RATIO / HISTODATA_ARCHIVE_MAX_MEMBERS."""

    max_bytes: int = 2 * 1000**4          # 2 TB uncompressed in total
    max_ratio: float = 250.0              # uncompressed / archive size, for the whole archive
    max_members: int = 5_000_000

    @classmethod
    def from_env(cls) -> "Limits":
        default = cls()
        return cls(max_bytes=int(constants.archive_limit(constants.ENV_ARCHIVE_MAX_BYTES, default.max_bytes)),
                   max_ratio=constants.archive_limit(constants.ENV_ARCHIVE_MAX_RATIO, default.max_ratio),
                   max_members=int(constants.archive_limit(constants.ENV_ARCHIVE_MAX_MEMBERS,
                                                           default.max_members)))


@dataclass
class Budget:
    """What the archives of one raw file may expand to together: nested archives count against
    the outer archive's budget (bytes, members, and the ratio to the outer archive's size)."""

    limits: Limits
    size: int            # the outermost archive's size
    bytes: int = 0
    members: int = 0

    @classmethod
    def of(cls, archive: Path, limits: Limits) -> "Budget":
        return cls(limits, max(archive.stat().st_size, 1))


@dataclass(frozen=True)
class Member:
    """What the checks need to know of one archive member."""

    name: str
    size: int
    kind: str            # "file", "dir", "symlink", "hardlink", "other"
    link: str = ""
    parts: tuple[str, ...] | None = None   # safe relative path parts; None when it would escape

    @classmethod
    def of(cls, name: str, size: int, kind: str, link: str = "") -> "Member":
        return cls(name, size, kind, link, safe_parts(name))


def archive_kind(path: str | os.PathLike) -> str | None:
    """'zip', 'tar' or None, from the file name (plain string work: called once per member)."""
    name = os.fspath(path).lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(ARCHIVE_SUFFIXES):
        return "tar"
    return None


def is_archive(path: str | os.PathLike) -> bool:
    return archive_kind(path) is not None


def archive_stem(path: str | os.PathLike) -> str:
    """`tiles.tar.gz` -> `tiles`."""
    name = Path(path).name
    for suffix in sorted(ARCHIVE_SUFFIXES + (".gz",), key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


# ----------------------------------------------------------------------------- member checks
def _refuse(archive: Path, member: str, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"refusing to extract {archive.name}: member {member!r} {why}.",
        "The archive may be corrupt or hostile; check where it came from. Nothing was extracted.")


def safe_parts(name: str) -> tuple[str, ...] | None:
    """The member path as safe relative parts (() for the root), or None when it would escape."""
    name = name.replace("\\", "/")
    if not name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if any(p == ".." or ":" in p for p in parts):
        return None
    return parts


def _link_stays_inside(member: tuple[str, ...], target: str, hard: bool) -> bool:
    """A link target resolved from the member's folder (symlink) or the archive root (hard link)."""
    if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
        return False
    base = [] if hard else list(member[:-1])
    for part in target.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not base:
                return False
            base.pop()
        else:
            base.append(part)
    return True


def _link_on_the_way(rel: tuple[str, ...], is_link: bool, symlinks: set) -> tuple[str, ...] | None:
    """The symlink member that a member's path goes through, or that a file member replaces."""
    if not symlinks:
        return None
    for depth in range(1, len(rel) + (0 if is_link else 1)):
        if rel[:depth] in symlinks:
            return rel[:depth]
    return None


def check_members(archive: Path, members: list[Member], limits: Limits, budget: Budget | None = None) -> None:
    """Raise UnsafeArchiveError for the first hostile member, or when the archive is a bomb. With
    `budget`, the archive is one level of a nested archive: its members count together with the
    levels before it (total bytes, member count, ratio to the outermost archive)."""
    budget = budget or Budget.of(archive, limits)
    if budget.members + len(members) > limits.max_members:
        raise _refuse(archive, members[max(limits.max_members - budget.members, 0)].name,
                      f"is beyond the limit of {limits.max_members} members (set "
                      f"{constants.ENV_ARCHIVE_MAX_MEMBERS} to allow more)")
    total = budget.bytes
    archive_size = budget.size
    symlinks = {m.parts for m in members if m.kind == "symlink"} - {None}
    for member in members:
        rel = member.parts
        if rel is None:
            raise _refuse(archive, member.name, "has an absolute path, a drive letter or '..'")
        through = _link_on_the_way(rel, member.kind == "symlink", symlinks)
        if through:
            raise _refuse(archive, member.name, f"would be written through the link {'/'.join(through)!r} "
                                                "(another member)")
        if member.kind == "other":
            raise _refuse(archive, member.name, "is a device file, FIFO or other special file")
        if member.kind in ("symlink", "hardlink") and not _link_stays_inside(
                rel, member.link, member.kind == "hardlink"):
            raise _refuse(archive, member.name, f"is a link pointing outside the target ({member.link!r})")
        total += max(member.size, 0)
        if total > limits.max_bytes:
            raise _refuse(archive, member.name,
                          f"takes the uncompressed total over {limits.max_bytes} bytes (set "
                          f"{constants.ENV_ARCHIVE_MAX_BYTES} to allow more)")
        if total / archive_size > limits.max_ratio and total > 1 << 20:
            raise _refuse(archive, member.name,
                          f"takes the compression ratio over {limits.max_ratio:g} (a zip bomb?; set "
                          f"{constants.ENV_ARCHIVE_MAX_RATIO} to allow more)")
    budget.bytes, budget.members = total, budget.members + len(members)


def _zip_members(zf: zipfile.ZipFile) -> list[Member]:
    members = []
    for info in zf.infolist():
        mode = info.external_attr >> 16
        if info.is_dir():
            kind = "dir"
        elif stat.S_ISLNK(mode):
            kind = "symlink"  # zipfile would write the link text as a file; refuse dangerous ones
        elif mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
            kind = "other"
        else:
            kind = "file"
        link = zf.read(info).decode("utf-8", "replace") if kind == "symlink" and info.file_size < 4096 else ""
        members.append(Member.of(info.filename, info.file_size, kind, link))
    return members


def _tar_members(tf: tarfile.TarFile) -> list[Member]:
    members = []
    for info in tf.getmembers():
        if info.isdir():
            kind = "dir"
        elif info.isreg():
            kind = "file"
        elif info.issym():
            kind = "symlink"
        elif info.islnk():
            kind = "hardlink"
        else:
            kind = "other"
        members.append(Member.of(info.name, info.size, kind, info.linkname))
    return members


# ----------------------------------------------------------------------------- reading
_READ_ERRORS = (zlib.error, zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError, NotImplementedError,
                RuntimeError)   # what a damaged or unusual archive raises while read


def _open_archive(path: Path):
    try:
        if archive_kind(path) == "zip":
            return zipfile.ZipFile(path)
        return tarfile.open(path)
    except _READ_ERRORS as err:   # e.g. NotImplementedError: a zip "version 8.4" in the directory
        raise UnsafeArchiveError(f"cannot read archive {path.name}: {err}.",
                                 "The file may be incomplete or corrupt; run `histodata verify` "
                                 "and fetch it again.") from err


def _members_of(handle, path: Path) -> list[Member]:
    try:
        return _zip_members(handle) if isinstance(handle, zipfile.ZipFile) else _tar_members(handle)
    except _READ_ERRORS as err:
        raise UnsafeArchiveError(f"cannot read archive {path.name}: {err}.",
                                 "The file may be corrupt; fetch it again.") from err


def list_members(path: str | os.PathLike) -> list[Member]:
    """Every member of an archive (no extraction)."""
    path = Path(path)
    with _open_archive(path) as handle:
        return _members_of(handle, path)


def top_names(members: list[Member]) -> tuple[tuple[str, ...], bool]:
    """The archive's top-level names, and whether it is one folder holding everything."""
    named = [(m.parts, m) for m in members if m.parts]
    tops = tuple(sorted({p[0] for p, _ in named}))
    single_folder = len(tops) == 1 and any(len(p) > 1 or m.kind == "dir" for p, m in named)
    return tops, single_folder


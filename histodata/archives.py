"""Safe, idempotent archive extraction (zip, tar, tar.gz/bz2/xz) and single-file gunzip.

Every member is checked before a byte is written: absolute paths, `..`, drive letters, links that
point outside the target, device files and FIFOs are refused with one `UnsafeArchiveError` naming
the member; total size, member count and compression ratio are bounded (bomb guard). Members are
extracted into a temporary folder beside the target and then moved into place, so an interrupted
run leaves nothing half-written; a marker file records which archive (size + sha256) was
extracted, so a second run with nothing new does nothing.
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import constants
from .errors import UnsafeArchiveError

MARKER_NAME = ".histodata-extracted.json"
ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
_COPY_CHUNK = 1 << 20


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


@dataclass(frozen=True)
class Member:
    """What the checks need to know of one archive member."""

    name: str
    size: int
    kind: str            # "file", "dir", "symlink", "hardlink", "other"
    link: str = ""


def archive_kind(path: str | os.PathLike) -> str | None:
    """'zip', 'tar' or None, from the file name."""
    name = Path(path).name.lower()
    if name.endswith(".zip"):
        return "zip"
    if any(name.endswith(s) for s in ARCHIVE_SUFFIXES):
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


def safe_relative(name: str) -> PurePosixPath | None:
    """The member path as a safe relative path, or None when it would escape the target."""
    name = name.replace("\\", "/")
    if not name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." or ":" in p for p in parts):
        return None
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _link_stays_inside(member: PurePosixPath, target: str, hard: bool) -> bool:
    """A link target resolved from the member's folder (symlink) or the archive root (hard link)."""
    if target.startswith("/") or (len(target) > 1 and target[1] == ":"):
        return False
    base = [] if hard else list(member.parent.parts)
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


def check_members(archive: Path, members: list[Member], limits: Limits) -> None:
    """Raise UnsafeArchiveError for the first hostile member, or when the archive is a bomb."""
    if len(members) > limits.max_members:
        raise _refuse(archive, members[limits.max_members].name,
                      f"is beyond the limit of {limits.max_members} members (set "
                      f"{constants.ENV_ARCHIVE_MAX_MEMBERS} to allow more)")
    total = 0
    archive_size = max(archive.stat().st_size, 1)
    for member in members:
        rel = safe_relative(member.name)
        if rel is None:
            raise _refuse(archive, member.name, "has an absolute path, a drive letter or '..'")
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
        members.append(Member(info.filename, info.file_size, kind, link))
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
        members.append(Member(info.name, info.size, kind, info.linkname))
    return members


# ----------------------------------------------------------------------------- extraction
def _extract_zip(zf: zipfile.ZipFile, members: list[Member], tmp: Path) -> None:
    for info, member in zip(zf.infolist(), members):
        rel = safe_relative(member.name)
        dest = tmp / rel
        if member.kind == "dir":
            dest.mkdir(parents=True, exist_ok=True)
            continue
        if member.kind == "symlink":  # checked to stay inside: write it as a real link
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(member.link, dest)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, open(dest, "wb") as out:
            shutil.copyfileobj(src, out, _COPY_CHUNK)  # zipfile stops at the declared size, checks CRC


def _extract_tar(tf: tarfile.TarFile, tmp: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        tf.extractall(tmp, filter="data")
    else:  # Python < 3.11.4: members were checked above; refuse modes we would not want anyway
        tf.extractall(tmp)  # noqa: S202 - every member was validated by check_members


def _open_archive(path: Path):
    try:
        if archive_kind(path) == "zip":
            return zipfile.ZipFile(path)
        return tarfile.open(path)
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError) as err:
        raise UnsafeArchiveError(f"cannot read archive {path.name}: {err}.",
                                 "The file may be incomplete or corrupt; run `histodata verify` "
                                 "and fetch it again.") from err


def list_members(path: str | os.PathLike) -> list[Member]:
    """Every member of an archive (no extraction)."""
    path = Path(path)
    with _open_archive(path) as handle:
        try:
            return _zip_members(handle) if isinstance(handle, zipfile.ZipFile) else _tar_members(handle)
        except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError,
                NotImplementedError, RuntimeError) as err:
            raise UnsafeArchiveError(f"cannot read archive {path.name}: {err}.",
                                     "The file may be corrupt; fetch it again.") from err


def _move_into_place(tmp: Path, target: Path) -> None:
    """Move every entry of `tmp` into `target`, merging folders that already exist."""
    target.mkdir(parents=True, exist_ok=True)
    for child in tmp.iterdir():
        dest = target / child.name
        if dest.is_dir() and child.is_dir() and not child.is_symlink():
            _move_into_place(child, dest)
        else:
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            os.replace(child, dest)


def _fingerprint(archive: Path, sha256: str | None) -> dict:
    st = archive.stat()
    return {"size": st.st_size, "sha256": sha256} if sha256 else {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_marker(target: Path) -> dict:
    try:
        return json.loads((target / MARKER_NAME).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _write_marker(target: Path, marker: dict) -> None:
    tmp = target / f"{MARKER_NAME}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(marker, indent=1, sort_keys=True))
    os.replace(tmp, target / MARKER_NAME)


def already_extracted(archive: str | os.PathLike, target: str | os.PathLike, sha256: str | None = None) -> bool:
    """True when the marker in `target` says this very archive was extracted there."""
    archive = Path(archive)
    return _read_marker(Path(target)).get(archive.name) == _fingerprint(archive, sha256)


def extract(archive: str | os.PathLike, target: str | os.PathLike, *, sha256: str | None = None,
            limits: Limits | None = None) -> bool:
    """Extract `archive` safely into `target`; returns False when it was already extracted there.

    `sha256` (from the dataset record) identifies the archive in the marker; without it the size
    and modification time do.
    """
    archive, target = Path(archive), Path(target)
    if already_extracted(archive, target, sha256):
        return False
    limits = limits or Limits.from_env()
    members = list_members(archive)
    check_members(archive, members, limits)
    target.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=target))
    try:
        with _open_archive(archive) as handle:
            try:
                if isinstance(handle, zipfile.ZipFile):
                    _extract_zip(handle, members, tmp)
                else:
                    _extract_tar(handle, tmp)
            except (zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError, NotImplementedError,
                    RuntimeError, OSError) as err:
                if isinstance(err, tarfile.FilterError):
                    raise _refuse(archive, getattr(getattr(err, "tarinfo", None), "name", "?"), str(err)) from err
                raise UnsafeArchiveError(f"cannot extract {archive.name}: {err}.",
                                         "The archive may be corrupt; fetch it again.") from err
        _move_into_place(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    marker = _read_marker(target)
    marker[archive.name] = _fingerprint(archive, sha256)
    _write_marker(target, marker)
    return True


def gunzip(source: str | os.PathLike, dest: str | os.PathLike, *, sha256: str | None = None,
           limits: Limits | None = None) -> bool:
    """Decompress a single-file `.gz` into `dest` (atomically, once); False when already done."""
    source, dest = Path(source), Path(dest)
    if _read_marker(dest.parent).get(source.name) == _fingerprint(source, sha256) and dest.exists():
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
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise UnsafeArchiveError(f"cannot decompress {source.name}: {err}.",
                                 "The file may be incomplete or corrupt; fetch it again.") from err
    finally:
        tmp.unlink(missing_ok=True)
    marker = _read_marker(dest.parent)
    marker[source.name] = _fingerprint(source, sha256)
    _write_marker(dest.parent, marker)
    return True

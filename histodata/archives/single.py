"""One compressed file -> one file: single-file `.gz`, and a zip that wraps exactly one file (what
Kaggle serves for some files). Both go through the bomb guard (`Limits`), write a temporary named
after its owner beside the destination, rename it into place only when complete, and delete it on
any failure; a full disk is reported as such.
"""
from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path

from .. import constants, temporaries
from ..errors import UnsafeArchiveError
from .members import Limits, Member, _refuse, check_members
from .unpack import _fingerprint, _marker_entry, _read_marker, _write_marker, disk_full

_CHUNK = 1 << 20


def _budget(source: Path, limits: Limits) -> int:
    return int(min(limits.max_bytes, max(source.stat().st_size, 1 << 20) * limits.max_ratio))


def _copy_within(source: Path, reader, dest: Path, budget: int) -> None:
    """Copy `reader` into a temporary beside `dest`, stopping at `budget` bytes; then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    temporaries.reclaim(dest.parent)
    tmp = temporaries.beside(dest)
    written = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := reader.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    raise _refuse(source, source.name, f"expands beyond {budget} bytes (set "
                                  f"{constants.ENV_ARCHIVE_MAX_RATIO} or {constants.ENV_ARCHIVE_MAX_BYTES} "
                                  "to allow more)")
                out.write(chunk)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def gunzip(source: str | os.PathLike, dest: str | os.PathLike, *, sha256: str | None = None,
           limits: Limits | None = None, key: str | None = None) -> bool:
    """Decompress a single-file `.gz` into `dest` (atomically, once); False when already done.
    `key` names the source in the marker (its raw path; default its file name)."""
    source, dest = Path(source), Path(dest)
    if _marker_entry(source, dest.parent, sha256, key) is not None and dest.exists():
        return False
    limits = limits or Limits.from_env()
    try:
        with gzip.open(source, "rb") as src:
            _copy_within(source, src, dest, _budget(source, limits))
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise disk_full(source, dest.parent, err) or UnsafeArchiveError(
            f"cannot decompress {source.name}: {err}.", "The file may be incomplete or corrupt; fetch it again.") from err
    marker = _read_marker(dest.parent)
    marker[key or source.name] = _fingerprint(source, sha256)
    _write_marker(dest.parent, marker)
    return True


def unzip_single(archive: str | os.PathLike, dest: str | os.PathLike, *, limits: Limits | None = None) -> bool:
    """Write the only file of the zip `archive` to `dest` (atomically, under the bomb guard).

    Returns False, writing nothing, when `archive` is not a zip at all; raises UnsafeArchiveError
    when it is a bomb, corrupt or holds another number of files than one."""
    archive, dest = Path(archive), Path(dest)
    limits = limits or Limits.from_env()
    try:
        bundle = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        return False
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as err:   # a damaged zip
        raise UnsafeArchiveError(f"cannot read {archive.name}: {err}.", "Fetch it again.") from err
    with bundle:
        files = [info for info in bundle.infolist() if not info.is_dir()]
        if len(files) != 1:
            raise UnsafeArchiveError(f"{archive.name} holds {len(files)} files where one was expected.",
                                     "Report it; the entry should list the zip itself instead.")
        check_members(archive, [Member.of(files[0].filename, files[0].file_size, "file")], limits)
        budget = min(_budget(archive, limits), max(files[0].file_size, 0))   # a lying size is caught too
        try:
            with bundle.open(files[0]) as reader:
                _copy_within(archive, reader, dest, budget)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as err:
            raise disk_full(archive, dest.parent, err) or UnsafeArchiveError(
                f"cannot unzip {archive.name}: {err}.", "The file may be incomplete or corrupt; fetch it again.") from err
    return True

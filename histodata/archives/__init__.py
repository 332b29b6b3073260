"""Safe, idempotent archive extraction (zip, tar, tar.gz/bz2/xz) and single-file gunzip.

    members.py   what an archive holds and the checks made before a byte is written (hostile
                 paths, links, special files; the bomb guard `Limits`)
    unpack.py    extraction into a temporary folder moved into place (archives inside archives
                 too), the marker that makes a second run do nothing
    single.py    one compressed file -> one file: `gunzip`, `unzip_single` (a zip of one file)

    from histodata import archives
    done = archives.extract("tiles.zip", "out/", sha256=digest)   # -> Extraction(folder, tops, changed)
"""
from __future__ import annotations

from .members import ARCHIVE_SUFFIXES, Budget, Limits, Member, archive_kind, archive_stem, check_members, \
    is_archive, list_members, safe_parts, top_names
from .single import gunzip, unzip_single
from .unpack import MARKER_NAME, MAX_NESTING, Extraction, already_extracted, extract

__all__ = ["ARCHIVE_SUFFIXES", "MARKER_NAME", "MAX_NESTING", "Budget", "Extraction", "Limits", "Member",
           "already_extracted", "archive_kind", "archive_stem", "check_members", "extract", "gunzip", "is_archive",
           "list_members", "safe_parts", "top_names", "unzip_single"]

"""What of a dataset is already on disk: judged from the record and file sizes, re-hashed only for
files the record does not know."""
from __future__ import annotations

from .layout import DatasetPaths
from .record import DatasetRecord, FileRecord
from .sources.base import RemoteFile
from .sources.resolve import select, unmatched_patterns
from .transfer import DownloadResult
from .transfer.hashing import check_file


def is_present(remote: RemoteFile, recorded: FileRecord | None, paths: DatasetPaths) -> bool:
    """On disk as recorded (size check, no re-hash) and consistent with what the source expects."""
    if recorded is None or not recorded.in_place(paths.raw_file(remote.name)):
        return False
    if remote.size is not None and remote.size != recorded.size:
        return False
    known = {**recorded.verified, "sha256": recorded.sha256}
    return all(known.get(a) in (None, v) for a, v in remote.checksums.items())


def complete_on_disk(record: DatasetRecord, entry_sources: list, paths: DatasetPaths,
                     patterns: list[str] | None) -> list[str] | None:
    """The selected names when a previous fetch left them all in place (for the same entry
    sources), judged from the record and file sizes alone; None when the network is needed."""
    expected = record.fetch.expected if record.fetch else None
    if not expected or record.entry.get("sources") != entry_sources:
        return None
    if patterns and unmatched_patterns(expected, patterns):
        return None
    wanted = select(expected, patterns)
    intact = record.intact_files()
    for name in wanted:
        info = intact.get(name)
        if info is None or not info.in_place(paths.raw_file(name)):
            return None
    return wanted


def reuse_unrecorded_files(remotes: list[RemoteFile], paths: DatasetPaths, damaged: set[str] = frozenset()):
    """Files already in raw/ but not in the record (a run interrupted before it could record them,
    or files copied in): re-hash them locally and keep those that match; files `verify` found
    damaged are downloaded again. Returns (pairs of remote and result for the kept ones, the
    remotes still to download)."""
    kept, rest = [], []
    for remote in remotes:
        if remote.name in damaged:
            rest.append(remote)
            continue
        path = paths.raw_file(remote.name)
        size = path.stat().st_size if path.is_file() else None
        unknowable = remote.size is None and not remote.checksums
        if size is None or unknowable or (remote.size is not None and size != remote.size):
            rest.append(remote)
            continue
        check = check_file(path, remote.checksums)
        if check.ok:
            kept.append((remote, DownloadResult(path, size, check.digests, sorted(remote.checksums),
                                                url=remote.url)))
        else:
            rest.append(remote)
    return kept, rest

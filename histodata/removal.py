"""Reclaiming disk space: `histodata rm ID` (the whole dataset folder) and `rm ID --raw-only` /
`fetch --no-keep-raw` (the raw copy, once the standardized copy stands on its own).

    drop_raw("bach")        -> RawDropReport: files removed, bytes freed, files kept
    remove_dataset("bach")  -> bytes freed

Dropping raw files never deletes data the layout needs: files the manifest points into raw/ for
(slides kept in place, files that could not be hard-linked) stay; images that are hard links to raw
files keep their bytes (only the raw name goes). The record keeps every dropped file's verified
size and sha256 and lists it under `raw_dropped`, so `verify` reports it as dropped, not missing.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import asdict, dataclass, field

from .errors import HistodataError
from .layout import DatasetPaths, dataset_paths
from .local import folder_size
from .record import DatasetRecord, dataset_lock
from .registry.loader import canonical_id
from .standardize import refingerprint
from .standardize.base import walk_files
from .standardize.outputs import check_outputs, manifest_files

log = logging.getLogger(__name__)


@dataclass
class RawDropReport:
    dataset: str
    dropped: list[str] = field(default_factory=list)   # raw names removed now
    freed_bytes: int = 0        # bytes really given back (files with no other hard link)
    kept: list[str] = field(default_factory=list)      # raw names the standardized copy needs

    def to_dict(self) -> dict:
        return asdict(self)


def needed_raw(paths: DatasetPaths) -> set[str]:
    """The raw names the manifest needs in place: files (or every file of folders) under raw/."""
    needed: set[str] = set()
    for name in manifest_files(paths.manifest):
        if not name.startswith("raw/"):
            continue
        target = paths.base / name
        if target.is_dir():
            needed.update(p.relative_to(paths.raw).as_posix() for p in walk_files(target, skip_hidden=False))
        else:
            needed.add(name[len("raw/"):])
            needed.update(_companions(paths, target))
    return needed


def _companions(paths: DatasetPaths, slide) -> set[str]:
    """Files a slide file needs beside it: a MIRAX `.mrxs` reads its same-name folder."""
    folder = slide.with_suffix("")
    if slide.suffix.lower() != ".mrxs" or not folder.is_dir():
        return set()
    return {p.relative_to(paths.raw).as_posix() for p in walk_files(folder, skip_hidden=False)}


def drop_raw(dataset_id: str, root=None) -> RawDropReport:
    """Remove the raw files the standardized copy does not need; refuses unless that copy is in
    place and intact (`verify` stays meaningful: the record says what was dropped)."""
    dataset_id = canonical_id(dataset_id)
    paths = dataset_paths(dataset_id, root)
    with dataset_lock(paths):
        record = DatasetRecord.read(paths)
        check = check_outputs(paths, record)
        if check.status != "ok":
            raise HistodataError(
                f"the raw files of {dataset_id} are its only complete copy: the standardized copy is "
                f"{'not there' if check.status == 'absent' else check.status} ({check.detail}).",
                f"Run `histodata fetch {dataset_id}` (or `histodata standardize {dataset_id}`) first.")
        needed = needed_raw(paths)
        report = RawDropReport(dataset_id, kept=sorted(needed))
        for path in sorted(walk_files(paths.raw)) if paths.raw.is_dir() else []:
            name = path.relative_to(paths.raw).as_posix()
            if name in needed:
                continue
            info = path.stat()
            path.unlink()
            report.dropped.append(name)
            report.freed_bytes += info.st_size if info.st_nlink == 1 else 0
        _prune_empty(paths)
        if report.dropped:
            record.set_raw_dropped(sorted({*record.dropped_files, *(n for n in report.dropped
                                                                   if n in record.files)}))
            record.set_standardized({**record.standardized,       # still up to date with what is left
                                     "fingerprint": refingerprint(paths, record.standardized)})
            record.write(paths)
    return report


def _prune_empty(paths: DatasetPaths) -> None:
    for folder, _, _ in sorted(os.walk(paths.raw), key=lambda row: -len(row[0])):
        if folder != str(paths.raw):
            try:
                os.rmdir(folder)
            except OSError:
                pass        # not empty: kept


def remove_dataset(dataset_id: str, root=None) -> int:
    """Remove the whole dataset folder (raw files, standardized copy, record); returns bytes freed."""
    dataset_id = canonical_id(dataset_id)
    paths = dataset_paths(dataset_id, root)
    if (not dataset_id or dataset_id.startswith(".") or "/" in dataset_id or "\\" in dataset_id
            or paths.base.resolve().parent != paths.root.resolve()):
        raise HistodataError(f"{dataset_id!r} is not a dataset id.", "`histodata list` shows the datasets.")
    if not paths.base.is_dir():
        raise HistodataError(f"{dataset_id} is not on disk (looked in {paths.base}).",
                             "`histodata list` shows the datasets in the data root (--root for another).")
    size = folder_size(paths.base)
    shutil.rmtree(paths.base)
    return size

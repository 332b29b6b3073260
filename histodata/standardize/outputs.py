"""The standardized copy on its own: which files the manifest needs, whether they are all there
(a cheap check: existence and total size, no hashing), and clearing what a standardizer wrote.

    summary = output_summary(paths)          # {"files": N, "bytes": B}, kept in the record
    check = check_outputs(paths, record)     # LayoutCheck: ok / missing / changed / absent
    clear_outputs(paths)                     # images/, masks/, annotations/, extracted/, manifest
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..layout import DatasetPaths
from ..record import DatasetRecord

FILE_COLUMNS = ("image", "mask", "annotation")   # manifest columns that name files (or folders)
DERIVED_DIRS = ("images", "masks", "annotations", "extracted")   # what standardizers write
SHOWN = 5   # missing files named in a report


@dataclass
class LayoutCheck:
    """`status`: ok, missing (a file the manifest names is gone), changed (the files' total size
    is not what standardizing left), absent (never standardized)."""

    status: str
    files: int = 0
    bytes: int = 0
    recorded_bytes: int | None = None
    missing: list[str] = field(default_factory=list)
    missing_count: int = 0
    partial: bool = False

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "absent")

    @property
    def detail(self) -> str:
        if self.status == "missing":
            more = self.missing_count - len(self.missing)
            return (f"{self.missing_count} file(s) the manifest names are gone: {', '.join(self.missing)}"
                    + (f" and {more} more" if more > 0 else ""))
        if self.status == "changed":
            return f"the standardized files take {self.bytes} bytes, {self.recorded_bytes} when made"
        if self.status == "absent":
            return "not standardized"
        return f"{self.files} file(s) in place"

    def as_dict(self) -> dict:
        return {**self.__dict__, "ok": self.ok, "detail": self.detail}


def manifest_files(manifest: Path) -> list[str]:
    """The distinct paths (relative to the dataset folder) the manifest's file columns name."""
    import pandas as pd  # heavy: imported on first use

    frame = pd.read_parquet(manifest, columns=None)
    names: set[str] = set()
    for column in FILE_COLUMNS:
        if column in frame.columns:
            names.update(str(v) for v in frame[column].dropna().unique() if str(v))
    return sorted(names)


def _size(path: str) -> int | None:
    """Bytes of a file, or of every file below a folder (a DICOM series); None when absent.
    (Plain strings and one stat: this runs once per sample, 100,000s of times.)"""
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            return sum(os.path.getsize(os.path.join(d, n)) for d, _, files in os.walk(path) for n in files)
        return info.st_size
    except OSError:
        return None


def measure(paths: DatasetPaths, names: list[str]) -> tuple[int, list[str]]:
    """(total bytes of the files present, the names absent)."""
    total, missing = 0, []
    base = str(paths.base)
    for name in names:
        size = _size(os.path.join(base, name))
        if size is None:
            missing.append(name)
        else:
            total += size
    return total, missing


def output_summary(paths: DatasetPaths) -> dict:
    """What verify compares against later: how many files the manifest names and their bytes."""
    names = manifest_files(paths.manifest)
    total, _ = measure(paths, names)
    return {"files": len(names), "bytes": total}


def check_outputs(paths: DatasetPaths, record: DatasetRecord | None = None) -> LayoutCheck:
    """Every file the manifest names exists, and their total size is what standardizing left."""
    record = record if record is not None else DatasetRecord.read(paths)
    part = record.standardized
    if not part:
        return LayoutCheck("absent")
    partial = bool(part.get("partial"))
    if not paths.manifest.is_file():
        return LayoutCheck("missing", missing=[paths.manifest.name], missing_count=1, partial=partial)
    names = manifest_files(paths.manifest)
    total, missing = measure(paths, names)
    recorded = (part.get("outputs") or {}).get("bytes")
    if missing:
        status = "missing"
    elif recorded is not None and recorded != total:
        status = "changed"
    else:
        status = "ok"
    return LayoutCheck(status, len(names), total, recorded, missing[:SHOWN], len(missing), partial)


def clear_outputs(paths: DatasetPaths) -> None:
    """Remove what standardizers wrote (never raw/), so the next run starts from the raw files."""
    for name in DERIVED_DIRS:
        folder = paths.base / name
        if folder.is_dir():
            shutil.rmtree(folder)
    paths.manifest.unlink(missing_ok=True)

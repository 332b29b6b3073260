"""The one local layout of a dataset (see docs/layout.md): where every part lives on disk.

    <root>/<id>/raw/              files as published (verified)
    <root>/<id>/images/           standardized images (hard links into raw/ where possible)
    <root>/<id>/masks/            label masks
    <root>/<id>/annotations/      QuPath-compatible GeoJSON, level-0 pixel coordinates
    <root>/<id>/manifest.parquet  one row per sample
    <root>/<id>/croissant.json    Croissant 1.0 metadata: the entry, and the manifest as a record set
    <root>/<id>/dataset.json      the dataset record: entry snapshot, layout version, class map,
                                  what was verified (sizes, sha256, source, time, version)
    <root>/<id>/.partial/         bookkeeping of downloads and adoptions in progress (locks, partial
                                  files and their state, temporaries), so raw/ holds listed files only
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from . import constants, temporaries
from .errors import HistodataError, UnsafeArchiveError
from .redact import redact

LAYOUT_VERSION = 1
RECORD_NAME = "dataset.json"
MANIFEST_NAME = "manifest.parquet"
CROISSANT_NAME = "croissant.json"   # Croissant 1.0 metadata of the standardized dataset
PARTIAL_DIR = ".partial"      # per-dataset folder for in-progress downloads


@dataclass(frozen=True)
class DatasetPaths:
    root: Path          # the data root
    id: str

    @property
    def base(self) -> Path:
        return self.root / self.id

    @property
    def raw(self) -> Path:
        return self.base / "raw"

    @property
    def images(self) -> Path:
        return self.base / "images"

    @property
    def masks(self) -> Path:
        return self.base / "masks"

    @property
    def annotations(self) -> Path:
        return self.base / "annotations"

    @property
    def manifest(self) -> Path:
        return self.base / MANIFEST_NAME

    @property
    def croissant(self) -> Path:
        return self.base / CROISSANT_NAME

    @property
    def record(self) -> Path:
        return self.base / RECORD_NAME

    @property
    def lock(self) -> Path:
        return self.base / ".lock"

    @property
    def partial(self) -> Path:
        """Bookkeeping of work in progress: never inside raw/, so no listed name can collide with it."""
        return self.base / PARTIAL_DIR

    def work_dir(self, target: Path) -> Path:
        """The bookkeeping folder for a file under raw/ (mirrors its folder under `partial`)."""
        return self.partial / Path(target).parent.relative_to(self.raw)

    def raw_file(self, name: str) -> Path:
        """The path of a raw file; refuses names that would leave raw/."""
        path = (self.raw / name).resolve()
        raw = self.raw.resolve()
        if path != raw and raw not in path.parents:
            raise UnsafeArchiveError(f"refusing file name {name!r}: it would be written outside {raw}.")
        return self.raw / name


def prune_partial(paths: DatasetPaths) -> None:
    """Remove the empty folders of `.partial/` (and it, when empty): what is left is work in
    progress (a partial kept for the next run). Call it under the dataset lock."""
    if not paths.partial.is_dir():
        return
    for folder, _subfolders, _files in sorted(os.walk(paths.partial), key=lambda row: -len(row[0])):
        try:
            os.rmdir(folder)
        except OSError:
            pass        # not empty: kept on purpose


def dataset_paths(dataset_id: str, root: str | os.PathLike | None = None) -> DatasetPaths:
    return DatasetPaths(constants.data_root(root), dataset_id)


def read_record(paths: DatasetPaths) -> dict:
    """The dataset record, or {} when there is none yet."""
    try:
        return json.loads(paths.record.read_text())
    except (FileNotFoundError, NotADirectoryError):
        return {}


def write_record(paths: DatasetPaths, record: dict) -> None:
    """Write the record atomically and durably (file and folder synced before and after the
    rename); secrets are redacted from everything in it. A failed write leaves the old record."""
    paths.base.mkdir(parents=True, exist_ok=True)
    record = {**record, "layout_version": LAYOUT_VERSION}
    text = redact(json.dumps(record, indent=2, ensure_ascii=False, default=str))
    temporaries.reclaim(paths.base)
    tmp = temporaries.beside(paths.record)
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, paths.record)
        sync_folder(paths.base)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise HistodataError(f"cannot write the dataset record {paths.record}: {err.strerror or err}.",
                             "Free some space (or choose another --root) and run the same command again; "
                             "verified files are kept.") from None


def sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (where the platform allows opening a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)

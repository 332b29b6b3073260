"""Raw files -> the one local layout (docs/layout.md): images/, masks/, annotations/, a Parquet
manifest and the `standardized` part of the dataset record.

    standardize_dataset(entry, paths) -> StandardizeReport
    refresh(entry, paths, force=False) -> StandardizeReport | None   (what fetch and `standardize` run)

looks `entry.standardize.with` up in the catalog (`catalog.py`: one `Standardizer` per module,
each naming its summary, its options and the function that runs it) and runs it with the entry's
options. A second run with nothing new does nothing; `refresh` also redoes a standardized copy
whose files are gone or changed (`outputs.py`), and `force` redoes it on purpose.
"""
from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..errors import StandardizeError
from ..layout import LAYOUT_VERSION, DatasetPaths
from ..record import DatasetRecord, dataset_lock
from .base import Context, manifest_frame, walk_files, write_manifest
from .catalog import CATALOG, NAMES, get
from .outputs import check_outputs, clear_outputs, output_summary

log = logging.getLogger(__name__)
STANDARDIZERS = NAMES   # the standardizer names, in catalog order
STANDARDIZER_VERSION = 2   # bump when a standardizer's output changes, so datasets are redone
__all__ = ["CATALOG", "STANDARDIZERS", "STANDARDIZER_VERSION", "StandardizeReport", "standardize_dataset",
           "refresh", "check_outputs", "refingerprint"]


@dataclass
class StandardizeReport:
    """What standardizing did: `changed` is False when everything was already up to date."""

    dataset: str
    standardizer: str
    samples: int
    changed: bool
    manifest: str
    splits: dict = field(default_factory=dict)
    class_map: dict = field(default_factory=dict)
    seconds: float = 0.0
    partial: bool = False

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _standardize_block(entry: Any) -> tuple[Any, dict]:
    """(name, options) of an entry's `standardize` block: the registry's Entry model or a plain
    entry mapping (as in the registry's YAML); no block means `raw`."""
    spec = entry.get("standardize") if isinstance(entry, Mapping) else entry.standardize
    if not spec:
        return "raw", {}
    if isinstance(spec, Mapping):
        return spec.get("with"), dict(spec.get("options") or {})
    return spec.with_, dict(spec.options)


def _fingerprint(name: str, options: dict, paths: DatasetPaths) -> str:
    """Changes when the standardizer, its options or any raw file (name, size, mtime) changes."""
    files = sorted((p.relative_to(paths.raw).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in walk_files(paths.raw)) if paths.raw.is_dir() else []
    text = json.dumps([name, options, LAYOUT_VERSION, STANDARDIZER_VERSION, files], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _counts(frame) -> tuple[dict, dict]:
    splits = {str(k): int(v) for k, v in frame["split"].fillna("(none)").value_counts().sort_index().items()}
    labels = {str(k): int(v) for k, v in frame["label"].dropna().value_counts().sort_index().items()}
    return splits, labels


def refingerprint(paths: DatasetPaths, part: dict) -> str:
    """The fingerprint of the raw files now, for the standardizer and options `part` recorded
    (after raw files were removed on purpose, the standardized copy still counts as up to date)."""
    return _fingerprint(part.get("standardizer"), dict(part.get("options") or {}), paths)


def works_on_part(entry: Any) -> bool:
    """Whether the entry's standardizer works on a partial fetch (only the files present)."""
    name, _ = _standardize_block(entry)
    return name in CATALOG and CATALOG[name].partial


def is_up_to_date(entry: Any, paths: DatasetPaths) -> bool:
    """True when the layout was made from these raw files with this standardizer and options
    (nothing to do, nothing to write: a read-only copy stays usable)."""
    name, options = _standardize_block(entry)
    previous = DatasetRecord.read(paths).standardized
    return (previous.get("fingerprint") == _fingerprint(name, options, paths) and paths.manifest.exists())


def standardize_dataset(entry: Any, paths: DatasetPaths, quiet: bool | None = None,
                        partial: bool | None = None, force: bool = False, runner: Any = None) -> StandardizeReport:
    """Turn `paths.raw` into the local layout with the entry's standardizer (idempotent; `force`
    runs it even when nothing changed).

    `runner` (a `histodata.cluster.ClusterRunner`) runs the standardizer's per-sample steps
    (`Context.map`) as tasks on a Dask cluster; without one they run here.

    `entry` is the registry's Entry model (or a plain entry mapping); its `standardize` block is
    checked against the catalog here too, so an entry that skipped validation fails clearly.
    `partial`: only part of the dataset is on disk (default: the last fetch left files missing);
    the record and the report say so."""
    name, options = _standardize_block(entry)
    standardizer = get(name, options)
    fingerprint = _fingerprint(name, options, paths)
    record = DatasetRecord.read(paths)
    previous = record.standardized
    if not force and previous.get("fingerprint") == fingerprint and paths.manifest.exists():
        return StandardizeReport(paths.id, name, previous.get("samples", 0), False, str(paths.manifest),
                                 previous.get("splits", {}), previous.get("class_map", {}),
                                 partial=bool(previous.get("partial")))
    if partial is None:
        partial = record.fetch is not None and not record.fetch.complete
    started = time.monotonic()
    context = Context(entry=entry, paths=paths, options=options, record=record,
                      standardizer=standardizer, quiet=quiet, runner=runner)
    result = standardizer.run(context)
    frame = manifest_frame(result.manifest)
    write_manifest(frame, paths.manifest)
    splits, labels = _counts(frame)
    seconds = round(time.monotonic() - started, 3)
    part = {"standardizer": name, "options": options, "layout_version": LAYOUT_VERSION,
            "standardizer_version": STANDARDIZER_VERSION, "fingerprint": fingerprint,
            "class_map": result.class_map, "samples": len(frame), "splits": splits, "labels": labels,
            "columns": list(frame.columns), **result.details, "partial": bool(partial),
            "outputs": output_summary(paths),
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "seconds": seconds}
    record = DatasetRecord.read(paths)   # re-read: merge, never clobber the fetch's parts
    record.set_standardized(part)
    record.write(paths)
    return StandardizeReport(paths.id, name, len(frame), True, str(paths.manifest), splits, result.class_map,
                             seconds, bool(partial))


def refresh(entry: Any, paths: DatasetPaths, quiet: bool | None = None, partial: bool | None = None,
            force: bool = False, runner: Any = None) -> StandardizeReport | None:
    """Standardize when the raw files or the entry changed, when files of the standardized copy
    are gone or changed (they are made again from raw/), or always with `force`; None when
    everything is up to date. Refuses to redo a copy whose raw files were dropped (`rm --raw-only`)."""
    record = DatasetRecord.read(paths)
    damaged = check_outputs(paths, record).status in ("missing", "changed")
    if not force and not damaged and is_up_to_date(entry, paths):
        return None          # nothing to write: no lock (a read-only copy stays usable)
    if not force and not damaged and record.dropped_files:
        log.warning("%s: its raw files changed since some were removed on purpose (rm --raw-only); the "
                    "standardized copy is kept as it was. To standardize again, download them with "
                    "`histodata fetch %s --files '*'` and run `histodata standardize %s`.", paths.id, paths.id,
                    paths.id)
        return None
    if record.dropped_files:
        raise StandardizeError(
            f"the standardized copy of {paths.id} cannot be made again: its raw files were removed "
            f"({len(record.dropped_files)} file(s), `rm --raw-only` on {record.raw_dropped.get('time')}).",
            f"Download them again with `histodata fetch {paths.id} --files '*'`, then run "
            f"`histodata standardize {paths.id}`.")
    with dataset_lock(paths):   # images/, the manifest and the record: one process at a time
        if force or damaged:
            clear_outputs(paths)     # made again from raw/: extraction markers go with their folders
        return standardize_dataset(entry, paths, quiet=quiet, partial=partial, force=True, runner=runner)

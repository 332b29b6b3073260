"""`verify`: re-hash a dataset's raw files offline, against the registry and the record, and
check its standardized copy (every file the manifest names is there, with the size it had).

Every file the dataset should have is checked: those recorded by fetches, those the source listed
when it was fetched, and those the registry lists (a listed file that is absent is `missing`; one
removed on purpose with `rm --raw-only` is `dropped`, which is not a problem).
"""
from __future__ import annotations

import logging

from .constants import CHECKSUM_ALGORITHMS
from .errors import HistodataError
from .layout import DatasetPaths, dataset_paths
from .record import DatasetRecord, FileRecord, dataset_lock
from .registry.loader import canonical_id, load_registry
from .reports import VerifyOutcome, VerifyReport
from .sources.manual import expected_specs
from .sources.resolve import is_included, select
from .standardize.outputs import check_outputs
from .transfer.hashing import check_file
from .progress import TransferDisplay

log = logging.getLogger(__name__)


def verify(dataset_id: str, root=None, quiet: bool | None = None,
           files: list[str] | None = None) -> VerifyReport:
    """Re-hash the raw files against the record's sha256 and the registry's checksums, offline;
    `files`: glob patterns restricting the check (as `fetch --files`)."""
    if not dataset_paths(dataset_id, root).base.is_dir():      # a local folder of this name wins
        dataset_id = canonical_id(dataset_id)
    paths = dataset_paths(dataset_id, root)
    record = DatasetRecord.read(paths)
    if not record.files:
        raise HistodataError(f"nothing to verify: no fetched files of {dataset_id} are recorded in "
                             f"{paths.base}.",
                             f"Run `histodata fetch {dataset_id}` first (or pass the --root it used).")
    entry = registry_entry(dataset_id)
    pinned = registry_checksums(entry, record)
    names = select(sorted(expected_names(entry, record)), files)
    report = VerifyReport(dataset_id, str(paths.raw))
    dropped = set(record.dropped_files)
    total = sum(info.size for name, info in record.files.items() if name in names and name not in dropped)
    with TransferDisplay(quiet, files=len(names), total_bytes=total) as display:
        for name in names:
            info = record.files.get(name)
            handle = display.start_file(name, info.size if info else None)
            pins = pins_of(pinned, name, info)
            if name in dropped and not paths.raw_file(name).is_file():
                report.files.append(VerifyOutcome(name, "dropped", info.size if info else None,
                                                  f"removed on purpose on {record.raw_dropped.get('time')}"))
            else:
                report.files.append(verify_file(paths, name, info, pins,
                                                progress=lambda n, h=handle: display.advance(h, n)))
            display.finish_file(handle)
    report.layout = check_outputs(paths, record).as_dict()
    remember_damage(paths, record, report)
    return report


def remember_damage(paths: DatasetPaths, record: DatasetRecord, report: VerifyReport) -> None:
    """Mark the recorded files whose bytes changed, so the next fetch downloads them again (a
    same-size corruption passes the fetch's size check); clear marks of files that are ok again."""
    checked = {f.name: f.status for f in report.files}
    damaged = {name for name in record.files if checked.get(name) == "changed"}
    damaged |= {name for name in record.damaged if name not in checked}
    if damaged == record.damaged:
        return
    try:
        with dataset_lock(paths):
            current = DatasetRecord.read(paths)
            current.set_damaged(damaged)
            current.write(paths)
    except (OSError, HistodataError) as err:   # a read-only copy: the report still says what is wrong
        log.debug("cannot record the damaged files in %s: %s", paths.record, err)


def registry_entry(dataset_id: str):
    """The registry's entry, or None when it is gone (the record's snapshot stands in)."""
    try:
        return load_registry().entry(dataset_id)
    except HistodataError:
        return None


def source_dicts(entry, record: DatasetRecord) -> list[dict]:
    if entry is not None:
        return [s.model_dump(mode="json") for s in entry.sources]
    return record.entry.get("sources") or []


def registry_checksums(entry, record: DatasetRecord) -> dict:
    """{(source index, name): pinned checksums} from the registry (else the record's snapshot)."""
    pinned = {}
    for index, source in enumerate(source_dicts(entry, record)):
        for spec in source.get("files") or []:
            sums = {a: spec[a] for a in CHECKSUM_ALGORITHMS if spec.get(a)}
            if sums:
                pinned[(index, spec["name"])] = sums
    return pinned


def pins_of(pinned: dict, name: str, info: FileRecord | None) -> dict[str, str]:
    """The registry's checksums of a file: those of the source it came from (any source's when it
    was never recorded)."""
    if info is not None:
        return pinned.get((info.source_index, name), {})
    return next((sums for (_, pinned_name), sums in pinned.items() if pinned_name == name), {})


def expected_names(entry, record: DatasetRecord) -> set[str]:
    """Every file the dataset should have: recorded ones, the source's listing at fetch time, and
    the registry's list (of the sources that delivered files, or what a person should adopt)."""
    names = set(record.files)
    if record.fetch and record.fetch.expected:
        names.update(record.fetch.expected)
    sources = source_dicts(entry, record)
    used = {info.source_index for info in record.files.values() if info.source_kind != "manual"}
    for index in used:
        if 0 <= index < len(sources):
            include = sources[index].get("include")
            names.update(spec["name"] for spec in sources[index].get("files") or []
                         if is_included(spec["name"], include))
    if entry is not None and any(info.source_kind == "manual" for info in record.files.values()):
        names.update(spec.name for spec in expected_specs(entry))
    return names


def verify_file(paths: DatasetPaths, name: str, info: FileRecord | None, pinned: dict[str, str],
                progress=None) -> VerifyOutcome:
    unverified = not (info and info.verified) and not pinned
    path = paths.raw_file(name)
    if not path.is_file():
        detail = "not on disk" if info else "listed but never fetched"
        return VerifyOutcome(name, "missing", info.size if info else None, detail, unverified)
    size = path.stat().st_size
    if info is None:   # on disk but never recorded: check it against the registry only
        check = check_file(path, pinned, progress=progress)
    elif size != info.size:
        return VerifyOutcome(name, "changed", size, f"size {size} bytes, recorded {info.size}", unverified)
    else:
        check = check_file(path, {**pinned, "sha256": info.sha256}, progress=progress)
    if not check.ok:
        return VerifyOutcome(name, "changed", size, "; ".join(check.problems), unverified)
    return VerifyOutcome(name, "ok", size, "", unverified or info is None)

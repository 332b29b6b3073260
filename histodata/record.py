"""The dataset record (`<root>/<id>/dataset.json`), typed: what was fetched, verified and standardized.

    record = DatasetRecord.read(paths)
    record.add_files({name: FileRecord.from_download(...)}, FetchState(...), entry)
    record.write(paths)

`files` holds one `FileRecord` per verified raw file, `fetch` the last fetch's `FetchState`,
`entry` a snapshot of the registry entry it was fetched with; `standardized` belongs to the
standardizer; what a process did not change is written back as it was read. One writer at a
time: `dataset_lock`.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from ._version import __version__
from .errors import HistodataError
from .layout import DatasetPaths, read_record, write_record
from .locking import SharedLock, acquire

log = logging.getLogger(__name__)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class FileRecord:
    """One verified raw file: its size and sha256, and what its bytes were checked against."""

    size: int
    sha256: str
    verified: dict[str, str] = field(default_factory=dict)   # algorithm -> hex matched a published checksum
    verified_against: str = "none"      # "registry", "provider" or "none"
    source_kind: str = ""
    source_index: int = 0
    fetched_at: str = ""
    histodata_version: str = __version__
    # What the source says about the file (RemoteFile.metadata: project, case, ...), for `--where`
    # and the manifest; written only when there is some (older records simply lack it).
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, size: int, digests: dict[str, str], checked: list[str], origin: str | None,
              source_kind: str, source_index: int, when: str,
              metadata: dict[str, str] | None = None) -> FileRecord:
        """The one place a file's record is made: `digests` from one read of the bytes, `checked`
        the algorithms that matched a published checksum whose `origin` is the registry or provider."""
        verified = {a: digests[a] for a in checked if a in digests}
        return cls(size=size, sha256=digests["sha256"], verified=verified,
                   verified_against=(origin or "provider") if verified else "none",
                   source_kind=source_kind, source_index=source_index, fetched_at=when,
                   metadata=dict(metadata or {}))

    def to_dict(self) -> dict:
        """As dataset.json holds it (no `metadata` key when there is none, as before it existed)."""
        document = asdict(self)
        if not document["metadata"]:
            del document["metadata"]
        return document

    @classmethod
    def from_dict(cls, data: dict) -> FileRecord:
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        sha256 = known.get("sha256") or (data.get("hashes") or {}).get("sha256") or ""
        record = cls(**{"size": 0, **known, "sha256": sha256})
        if not isinstance(record.size, int) or not isinstance(record.sha256, str) \
                or not isinstance(record.verified, dict) or not isinstance(record.metadata, dict):
            raise TypeError(f"a file's record has the wrong types ({data!r:.60})")
        return record

    @property
    def checksum_text(self) -> str:
        """How the bytes were checked, for people: 'md5 (registry)' or 'size only (unverified)'."""
        if self.verified:
            return f"{'+'.join(sorted(self.verified))} ({self.verified_against})"
        return "size only (unverified)"

    def in_place(self, path) -> bool:
        """On disk with the recorded size (no re-hash)."""
        return path.is_file() and path.stat().st_size == self.size


@dataclass
class FetchState:
    """The last fetch: when, by which version, the source's whole file list, and whether every one
    of those files is on disk."""

    time: str = ""
    histodata_version: str = __version__
    expected: list[str] | None = None
    complete: bool = False
    sources: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> FetchState:
        state = cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
        expected_ok = state.expected is None or isinstance(state.expected, list)
        if not expected_ok or not isinstance(state.sources, list):
            raise TypeError(f"the fetch part has the wrong types ({data!r:.60})")
        return state


@dataclass
class DatasetRecord:
    """The parts of dataset.json, typed. Writing changes only what this process changed: the parts
    and files it did not touch are written back exactly as they were read."""

    entry: dict = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)
    fetch: FetchState | None = None
    standardized: dict = field(default_factory=dict)
    damaged: set[str] = field(default_factory=set)              # files `verify` found changed
    raw_dropped: dict = field(default_factory=dict)             # `rm --raw-only`: time, files, bytes
    read_as: dict = field(default_factory=dict, repr=False)     # the document as it was read
    changed: set[str] = field(default_factory=set, repr=False)  # parts and file names set since

    @classmethod
    def read(cls, paths: DatasetPaths) -> DatasetRecord:
        """The record; a damaged one (not JSON, or parts of the wrong type) is set aside with a
        warning and the record starts anew: the next fetch re-verifies the files on disk."""
        try:
            data = read_record(paths)
            files = data.get("files") or {}
            if isinstance(files, list):          # a hand-written record may list its files
                files = {f.get("name"): f for f in files if isinstance(f, dict)}
            fetch = data.get("fetch")
            return cls(entry=dict(data.get("entry") or {}),
                       files={str(name): FileRecord.from_dict(info) for name, info in files.items()},
                       fetch=FetchState.from_dict(fetch) if fetch else None,
                       standardized=dict(data.get("standardized") or {}),
                       damaged=set(data.get("damaged") or []),
                       raw_dropped=dict(data.get("raw_dropped") or {}), read_as=data)
        except (ValueError, TypeError, AttributeError) as err:
            set_aside(paths, err)
            return cls()

    def to_dict(self) -> dict:
        document = dict(self.read_as)
        if "entry" in self.changed:
            document["entry"] = self.entry
        new_files = {name: info.to_dict() for name, info in self.files.items() if name in self.changed}
        if new_files or "files" not in document:
            document["files"] = {**(document.get("files") or {}), **new_files}
        if "fetch" in self.changed and self.fetch is not None:
            document["fetch"] = asdict(self.fetch)
        if "standardized" in self.changed:
            document["standardized"] = self.standardized
        if "damaged" in self.changed:
            document.pop("damaged", None)
            if self.damaged:
                document["damaged"] = sorted(self.damaged)
        if "raw_dropped" in self.changed:
            document.pop("raw_dropped", None)
            if self.raw_dropped.get("files"):
                document["raw_dropped"] = self.raw_dropped
        return document

    def write(self, paths: DatasetPaths) -> None:
        write_record(paths, self.to_dict())

    @property
    def sources_used(self) -> list[str]:
        return list(self.fetch.sources) if self.fetch else []

    def add_files(self, new_files: dict[str, FileRecord], state: FetchState, entry_snapshot: dict) -> None:
        """Merge a fetch's results: new files join the recorded ones; the fetch state is replaced,
        its sources joining those of earlier fetches."""
        self.entry = entry_snapshot
        for name, info in new_files.items():     # a file adopted (--from) keeps what a fetch learnt of it
            earlier = self.files.get(name)
            if earlier is not None and earlier.metadata and not info.metadata:
                info.metadata = dict(earlier.metadata)
        self.files.update(new_files)
        state.sources = sorted({*self.sources_used, *state.sources})
        self.fetch = state
        self.changed |= {"entry", "fetch", *new_files}
        if self.damaged & set(new_files):
            self.set_damaged(self.damaged - set(new_files))
        if set(self.dropped_files) & set(new_files):     # raw files downloaded again
            self.set_raw_dropped([n for n in self.dropped_files if n not in new_files])

    def set_damaged(self, names: set[str]) -> None:
        """The recorded files whose bytes no longer match (found by `verify`): a fetch replaces them."""
        self.damaged = set(names)
        self.changed.add("damaged")

    def intact_files(self) -> dict[str, FileRecord]:
        """The recorded files not found damaged since."""
        return {name: info for name, info in self.files.items() if name not in self.damaged}

    @property
    def dropped_files(self) -> list[str]:
        """The raw files `rm --raw-only` (or `fetch --no-keep-raw`) removed on purpose."""
        return list(self.raw_dropped.get("files") or [])

    def set_raw_dropped(self, names: list[str]) -> None:
        """Record the raw files removed on purpose (their verified record stays in `files`)."""
        size = sum(self.files[n].size or 0 for n in names if n in self.files)
        self.raw_dropped = {"time": now_iso(), "files": sorted(names), "bytes": size} if names else {}
        self.changed.add("raw_dropped")

    def set_standardized(self, part: dict) -> None:
        """The standardizer's part (replaced whole)."""
        self.standardized = part
        self.changed.add("standardized")


def set_aside(paths: DatasetPaths, why: Exception) -> None:
    """Keep a damaged record beside the new one (nothing is deleted) and say so."""
    aside = paths.record.with_name(f"{paths.record.name}.damaged")
    try:
        paths.record.replace(aside)
    except OSError:
        aside = paths.record
    log.warning("the dataset record %s is damaged (%s); starting a new one: a fetch re-verifies the files "
                "on disk. The old record is kept as %s.", paths.record, str(why)[:100], aside.name)


def save_fetch(paths: DatasetPaths, new_files: dict[str, FileRecord], state: FetchState,
               entry_snapshot: dict) -> DatasetRecord:
    """Re-read the record, merge a fetch's results and write it (under the dataset lock)."""
    record = DatasetRecord.read(paths)
    record.add_files(new_files, state, entry_snapshot)
    record.write(paths)
    return record


@contextmanager
def dataset_lock(paths: DatasetPaths):
    """One writer of a dataset's folder and record at a time; a second one waits and says so."""
    lock = SharedLock(paths.lock)       # holds on a root shared by many nodes too
    try:
        acquire(lock, f"another histodata process is fetching {paths.id}; waiting for it to finish ...")
    except OSError as err:
        raise HistodataError(f"cannot write in {paths.base}: {err.strerror or err}.",
                             "Choose a data root you can write to (--root DIR or $HISTODATA_HOME).") from None
    try:
        yield
    finally:
        lock.release()

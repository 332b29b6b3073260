"""What `fetch` and `verify` did, as data: the CLI renders these, scripts read `to_dict()`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from .record import FileRecord


def source_label(index: int, kind: str) -> str:
    """'zenodo (source 1)': how messages name one of an entry's sources."""
    return f"{kind} (source {index + 1})"


@dataclass
class FileOutcome:
    """One raw file of a fetch: planned (dry run), downloaded, present (already there) or adopted."""

    name: str
    size: int | None
    status: str
    checksum: str               # how the bytes are checked: "md5 (provider)", "size only (unverified)"
    source: str                 # "zenodo (source 1)"
    sha256: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)    # project, case, ... (sources.select)

    @classmethod
    def from_record(cls, name: str, info: FileRecord, status: str) -> FileOutcome:
        source = source_label(info.source_index, info.source_kind)
        return cls(name, info.size, status, info.checksum_text, source, info.sha256, dict(info.metadata))

    @property
    def unverified(self) -> bool:
        return "unverified" in self.checksum


@dataclass
class FetchReport:
    """What `fetch` did (or, for a dry run, would do)."""

    dataset: str
    raw_dir: str
    dry_run: bool = False
    files: list[FileOutcome] = field(default_factory=list)
    already_complete: bool = False
    complete: bool = False              # every file of the source is on disk (not only a --files subset)
    sources_used: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    standardized: bool = False
    standardized_part: bool = False     # standardized from a part of the dataset (--files/--where)
    standardize_note: str | None = None
    ingest: dict | None = None          # --from: adopted, missing, unexpected and mismatched files
    listed_from: str | None = None      # a dry run answered without listing: "registry", or "index" (estimates)
    group_by: str | None = None         # the per-file field a dry run counts by (its kind's `group_by`)

    @property
    def groups(self) -> dict[str, dict[str, int]]:
        """Files and bytes per value of `group_by` (`{"TCGA-BRCA": {"files": 3, "bytes": ...}}`),
        largest first; empty without a `group_by`."""
        if not self.group_by:
            return {}
        groups: dict[str, dict[str, int]] = {}
        for f in self.files:
            group = groups.setdefault(f.metadata.get(self.group_by) or "(none)", {"files": 0, "bytes": 0})
            group["files"] += 1
            group["bytes"] += f.size or 0
        return dict(sorted(groups.items(), key=lambda item: (-item[1]["bytes"], item[0])))

    @property
    def total_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def fetched_bytes(self) -> int:
        """Bytes that arrived in this run: downloaded or adopted."""
        return sum(f.size or 0 for f in self.files if f.status in ("downloaded", "adopted"))

    @property
    def downloaded_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files if f.status == "downloaded")

    @property
    def unverified(self) -> list[str]:
        return [f.name for f in self.files if f.unverified]

    def to_dict(self) -> dict:
        document = asdict(replace(self, files=[]))     # (asdict of 30,000 files takes seconds)
        document["files"] = [{**vars(f), "metadata": dict(f.metadata), "unverified": f.unverified}
                             for f in self.files]
        return {**document, "total_bytes": self.total_bytes, "downloaded_bytes": self.downloaded_bytes,
                "unverified": self.unverified, "groups": self.groups}


@dataclass
class VerifyOutcome:
    name: str
    status: str                 # "ok", "missing", "changed" or "dropped" (removed on purpose: rm --raw-only)
    size: int | None = None
    detail: str = ""
    unverified: bool = False    # never checked against a published checksum (only against itself)


@dataclass
class VerifyReport:
    dataset: str
    raw_dir: str
    files: list[VerifyOutcome] = field(default_factory=list)
    # the standardized copy (standardize/outputs.py LayoutCheck.as_dict()): status ok, missing,
    # changed or absent (never standardized), with a detail
    layout: dict = field(default_factory=dict)

    @property
    def layout_ok(self) -> bool:
        return self.layout.get("status", "absent") in ("ok", "absent")

    @property
    def ok(self) -> bool:
        return all(f.status in ("ok", "dropped") for f in self.files) and self.layout_ok

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok,
                "counts": {s: self.count(s) for s in ("ok", "missing", "changed", "dropped")},
                "unverified": [f.name for f in self.files if f.unverified]}

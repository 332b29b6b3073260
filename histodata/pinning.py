"""`histodata registry lock`: pin what a provider publishes now (file names, sizes, checksums) into a
registry entry's YAML, so keeping the registry true is one command.

Each automatic source whose files the provider lists (zenodo, figshare, dataverse, s3, girder, gdc,
idc, ...) is asked for its current files through its kind's `list_files`, with its published
checksums file applied and its `include` globs kept. The source's `files:` list then holds every
included file with the provider's size and checksums; fields the registry adds (a `url`, a
`resource_key`, notes) stay, and a checksum of an algorithm the provider does not publish stays while
the provider reports the same size and no conflicting checksum. Files the provider no longer has
are dropped (the diff shows them); pinned files outside `include` are left as they are. Sources
whose files carry their own URLs (http, ftp) and manual sources are the registry's own listing and
are skipped.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import constants, temporaries
from .constants import CHECKSUM_ALGORITHMS
from .errors import HistodataError, RegistryError
from .http import new_session
from .registry.edit import replace_source_files
from .registry.globs import is_included
from .registry.kinds import KINDS
from .registry.loader import builtin_dir, load_registry, validate_document
from .reports import source_label
from .sources import kind_module
from .sources.manifests import apply_manifest
from .sources.resolve import included

MAX_FILES = 2000   # more than this in one source is a listing to select from, not to pin file by file


@dataclass
class SourceLock:
    """What locking one source found: the new `files:` list and how it differs from the old one."""

    index: int
    kind: str
    files: list[dict] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: str | None = None        # why the source was not asked

    @property
    def label(self) -> str:
        return source_label(self.index, self.kind)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.label} skipped: {self.skipped}"
        if not (self.added or self.removed or self.changed):
            return f"{self.label} {len(self.files)} file(s), as the registry has them"
        return (f"{self.label} {len(self.files)} file(s): {len(self.added)} new, "
                f"{len(self.changed)} changed, {len(self.removed)} no longer listed")

    def as_dict(self) -> dict:
        return {"source": self.index + 1, "kind": self.kind, "files": len(self.files), "added": self.added,
                "removed": self.removed, "changed": self.changed, "skipped": self.skipped}


@dataclass
class LockResult:
    """The entry's file, its text before and after, and what each source contributed."""

    dataset_id: str
    path: Path
    before: str
    after: str
    sources: list[SourceLock]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the entry's YAML (empty when nothing changed)."""
        return "".join(difflib.unified_diff(self.before.splitlines(keepends=True),
                                            self.after.splitlines(keepends=True),
                                            fromfile=f"a/{self.path.name}", tofile=f"b/{self.path.name}"))

    def write(self) -> None:
        """Save the new text in place (atomically: a temporary beside it, then a rename)."""
        temporary = temporaries.beside(self.path)
        try:
            temporary.write_text(self.after, encoding="utf-8")
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)

    def as_dict(self) -> dict:
        return {"id": self.dataset_id, "file": str(self.path), "changed": self.changed,
                "sources": [s.as_dict() for s in self.sources], "diff": self.diff()}


# ----------------------------------------------------------------------------- where the entry is
def entry_path(dataset_id: str) -> Path:
    """The YAML file an id's entry is read from: a $HISTODATA_REGISTRY folder's, else the built-in one."""
    for folder in [*constants.extra_registry_dirs(), builtin_dir()]:
        for suffix in (".yaml", ".yml"):
            path = Path(folder) / f"{dataset_id}{suffix}"
            if path.is_file():
                return path
    raise RegistryError(f"no YAML file for {dataset_id!r} in the registry folders.",
                        "`registry lock` edits an entry's own file: built-in or under $HISTODATA_REGISTRY.")


# ----------------------------------------------------------------------------- one source
def lockable(source) -> str | None:
    """Why a source cannot be locked (None when it can)."""
    row = KINDS[source.kind]
    if not row.automatic:
        return "a manual source (its files are what a person downloads)"
    if row.file_urls and not (row.listing and getattr(source, row.listing, None)):
        return f"{source.kind} files carry their own URLs; the registry is the listing"
    return None


def provider_listing(entry, source, session) -> list:
    """The source's files as the provider lists them now (published checksums file applied), only
    those its `include` keeps; the registry's pins are not applied."""
    remotes = kind_module(source.kind).list_files(source, session, entry)
    apply_manifest(remotes, source, session)
    return included(remotes, source)


def merged_spec(old: dict | None, remote) -> dict:
    """The registry's file spec updated with the provider's size and checksums (see module doc)."""
    spec = dict(old) if old else {"name": remote.name}
    same_size = remote.size is None or spec.get("size") in (None, remote.size)
    agree = all(spec.get(alg) in (None, value) for alg, value in remote.checksums.items())
    if not (same_size and agree):
        for algorithm in CHECKSUM_ALGORITHMS:
            spec.pop(algorithm, None)
    if remote.size is not None:
        spec["size"] = remote.size
    for algorithm in CHECKSUM_ALGORITHMS:
        if remote.checksums.get(algorithm):
            spec[algorithm] = remote.checksums[algorithm]
    return spec


def lock_source(entry, index: int, source, old_files: list[dict], session, max_files: int) -> SourceLock:
    """The new `files:` of one source: the registry's order for files it knew, new ones after."""
    lock = SourceLock(index, source.kind)
    remotes = provider_listing(entry, source, session)
    if not remotes:
        matching = " matching its include" if source.include else ""
        raise HistodataError(f"{lock.label} lists no files{matching}.",
                             "Check the source's ids and `include` in the entry.")
    if len(remotes) > max_files:
        raise HistodataError(f"{lock.label} lists {len(remotes):,} files; pinning each would bloat the "
                             "entry.",
                             f"Pass --max-files {len(remotes)} to pin them anyway, or narrow the source.")
    listed = {r.name: r for r in remotes}
    for old in old_files:
        name = old.get("name")
        if not is_included(str(name), source.include):
            lock.files.append(old)                           # outside include: left as it is
        elif name in listed:
            spec = merged_spec(old, listed.pop(name))
            if spec != old:
                lock.changed.append(name)
            lock.files.append(spec)
        else:
            lock.removed.append(name)
    for remote in listed.values():
        lock.files.append(merged_spec(None, remote))
        lock.added.append(remote.name)
    return lock


# ----------------------------------------------------------------------------- the entry
def lock_entry(dataset_id: str, *, source_number: int | None = None, session=None,
               max_files: int = MAX_FILES) -> LockResult:
    """Ask the providers of `dataset_id`'s sources (or only its N-th) for their files and return the
    entry's text with them pinned (nothing is written; see LockResult.write)."""
    import yaml  # heavy: imported on first use

    dataset_id = load_registry().resolve(dataset_id)
    path = entry_path(dataset_id)
    before = path.read_text(encoding="utf-8")
    document, problems = validate_document(path, before.encode("utf-8"))
    if problems or document is None:
        raise RegistryError(f"{path} is not a valid entry: {problems[0] if problems else 'empty'}",
                            f"Fix it first (histodata registry validate {path.parent}).")
    entry = _model(document)
    raw_sources = yaml.safe_load(before).get("sources") or []
    chosen = range(len(entry.sources)) if source_number is None else [source_number - 1]
    if source_number is not None and not 1 <= source_number <= len(entry.sources):
        raise HistodataError(f"--source {source_number}: {dataset_id} has {len(entry.sources)} source(s).",
                             f"Run `histodata info {dataset_id}` to see them.")
    session = session or new_session()
    after, locks = before, []
    for index in chosen:
        source = entry.sources[index]
        why = lockable(source)
        if why:
            locks.append(SourceLock(index, source.kind, skipped=why))
            continue
        lock = lock_source(entry, index, source, raw_sources[index].get("files") or [], session, max_files)
        locks.append(lock)
        after = replace_source_files(after, index, lock.files)
    if not any(lock.skipped is None for lock in locks):
        raise HistodataError(f"{dataset_id} has no source whose provider lists its files "
                             f"({'; '.join(lock.summary() for lock in locks)}).",
                             "Only sources of API-backed kinds (zenodo, figshare, s3, ...) can be locked.")
    return LockResult(dataset_id, path, before, after, locks)


def _model(document: dict):
    from .registry.models import Entry  # heavy: the pydantic models, imported on first use

    return Entry.model_validate(document)

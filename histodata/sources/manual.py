"""Gated data: files a person downloaded by hand, adopted with `histodata fetch ID --from DIR`.

`ingest` finds the entry's files in DIR (by relative path, else by base name), checks their
size and checksums, and adopts them into `<root>/<id>/raw/` by hard link (a copy only across
filesystems: terabytes are never duplicated). It reports missing, unexpected and mismatched
files, and the size and sha256 of every adopted file for the dataset record.

A MIRAX slide (HEROHE) is one unit: `X.mrxs` plus the folder `X/` of `.dat` files and
`Slidedat.ini` beside it; the folder is adopted with its `.mrxs`, and a missing or incomplete
folder is reported. A manual source's `patterns` expect files by glob besides the listed ones
(HEROHE's `*.mrxs`): each pattern must match at least one file, matches keep their path in DIR.
Entries that list neither files nor patterns adopt everything under DIR, paths kept.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import posixpath
import shutil
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import temporaries
from ..errors import AccessError, HistodataError
from ..layout import prune_partial
from ..transfer.hashing import check_file
from ..progress import TransferDisplay
from .base import RemoteFile, safe_relative_path, valid_text

log = logging.getLogger(__name__)

MIRAX_SUFFIX = ".mrxs"
MIRAX_INDEX = "slidedat.ini"
IGNORED_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}   # what file managers leave behind


# ----------------------------------------------------------------------------- reports
@dataclass
class AdoptedFile:
    name: str                          # path under raw/
    path: str                          # where it was found
    size: int
    sha256: str
    verified: dict[str, str] = field(default_factory=dict)   # algorithm -> hex checked against the registry
    linked: bool = True                # hard link (False: copied across filesystems)


@dataclass
class Mismatch:
    name: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name} ({self.path}): {self.reason}"


@dataclass
class IngestReport:
    from_dir: str
    adopted: list[AdoptedFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mismatched

    @property
    def copied(self) -> list[str]:
        return [a.name for a in self.adopted if not a.linked]

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}

    def summary(self) -> str:
        """One paragraph for the person: what was adopted and what is wrong."""
        parts = [f"adopted {len(self.adopted)} file(s) from {self.from_dir}"]
        if self.copied:
            parts.append(f"{len(self.copied)} copied (another filesystem)")
        if self.missing:
            parts.append(f"missing {len(self.missing)}: {sample_names(self.missing)}")
        if self.mismatched:
            parts.append(f"mismatched {len(self.mismatched)}: {sample_names([str(m) for m in self.mismatched])}")
        if self.unexpected:
            parts.append(f"not part of the dataset (left alone) {len(self.unexpected)}: "
                         f"{sample_names(self.unexpected)}")
        return "; ".join(parts) + "."


def sample_names(names: list[str], count: int = 5) -> str:
    return ", ".join(names[:count]) + (", ..." if len(names) > count else "")


# ----------------------------------------------------------------------------- the kind
def list_files(source, session, entry) -> list[RemoteFile]:
    """A manual source cannot be downloaded: say what to do by hand."""
    steps = " ".join((getattr(entry, "instructions", None) or "").split())
    entry_id = getattr(entry, "id", "ID")
    raise AccessError(f"{entry_id} must be downloaded by hand." + (f" What to do: {steps}" if steps else ""),
                      f"Then adopt the files with: histodata fetch {entry_id} --from DIR")


def expected_specs(entry) -> list:
    """What a person should end up with: the manual source's files, else the first list of files."""
    ordered = sorted(entry.sources, key=lambda s: s.kind != "manual")
    return next((list(s.files) for s in ordered if s.files), [])


def expected_patterns(entry) -> list[str]:
    """The globs of files a person should also have: the manual source's `patterns`."""
    return next((list(getattr(s, "patterns", None) or []) for s in entry.sources if s.kind == "manual"), [])


def matches_glob(rel: str, pattern: str) -> bool:
    """A DIR-relative path matches by its whole path or its base name (case ignored)."""
    rel, pattern = rel.lower(), pattern.lower()
    return fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(posixpath.basename(rel), pattern)


# ----------------------------------------------------------------------------- the folder
@dataclass
class Folder:
    """The files under DIR (relative '/'-paths), with lookups by base name and MIRAX units."""

    root: Path
    files: list[str]

    @classmethod
    def scan(cls, root: Path) -> Folder:
        found, seen = [], set()
        for folder, dirs, names in os.walk(root, followlinks=True):   # linked folders count too
            real = os.path.realpath(folder)
            if real in seen:                   # a link back into the tree: walked once
                dirs[:] = []
                continue
            seen.add(real)
            dirs.sort()
            for name in sorted(names):
                full = Path(folder) / name
                if name.lower() in IGNORED_NAMES or not full.is_file():
                    continue
                found.append(full.relative_to(root).as_posix())
        return cls(root, found)

    def by_basename(self) -> dict[str, list[str]]:
        index = defaultdict(list)
        for rel in self.files:
            index[posixpath.basename(rel)].append(rel)
        return index

    def size(self, rel: str) -> int:
        return (self.root / rel).stat().st_size

    def mirax_members(self, mrxs_rel: str) -> list[str] | None:
        """The files of the folder beside `X.mrxs` (None when there is no such folder)."""
        folder = mrxs_rel[: -len(MIRAX_SUFFIX)]
        if not (self.root / folder).is_dir():
            return None
        return [rel for rel in self.files if rel.startswith(folder + "/")]


def find(folder: Folder, spec, basenames: dict[str, list[str]], taken: set[str]) -> str | None:
    """Where a registry file is in DIR: its relative path, else a unique file of the same name
    (several candidates: the one whose path ends like the name, else the one of the right size)."""
    if spec.name in folder.files and spec.name not in taken:
        return spec.name
    candidates = [c for c in basenames.get(posixpath.basename(spec.name), []) if c not in taken]
    if len(candidates) > 1:
        ending = [c for c in candidates if c.endswith("/" + spec.name)]
        sized = [c for c in candidates if spec.size is not None and folder.size(c) == spec.size]
        candidates = ending or sized or candidates
    return candidates[0] if candidates else None


# ----------------------------------------------------------------------------- ingest
def ingest(entry, from_dir, paths, files=None, quiet=None, only=None) -> IngestReport:
    """Adopt the entry's files found in `from_dir` into `paths.raw` (see the module docstring).

    `files`: the registry file specs to look for (a --files subset); default every file the
    entry lists, or everything under the folder when it lists neither files nor patterns.
    `only`: the --files globs, which also narrow the files found by the entry's patterns.
    """
    root = Path(from_dir).expanduser()
    if not root.is_dir():
        raise HistodataError(f"--from {root}: no such folder.",
                             "Give the folder you downloaded the files into.")
    folder = Folder.scan(root.resolve())
    specs = list(files) if files is not None else expected_specs(entry)
    report = IngestReport(valid_text(str(root)))
    patterns = expected_patterns(entry)
    if specs or patterns:
        plan = plan_adoption(folder, specs, report)
        plan += plan_patterns(folder, patterns, {rel for rel, _, _ in plan}, report, only)
    else:
        plan = whole_folder(folder, report)
    taken = {rel for rel, _, _ in plan}
    if files is None:
        report.unexpected = [valid_text(rel) for rel in folder.files if rel not in taken]
    try:
        adopt_all(folder, plan, paths, report, quiet)
    finally:
        prune_partial(paths)
    if report.missing or report.mismatched or report.unexpected:
        log.warning("%s", report.summary())
    return report


def whole_folder(folder: Folder, report: IngestReport) -> list[tuple[str, str, None]]:
    """Every file under DIR, adopted under its own path (made valid text: a name whose bytes are
    not UTF-8 is adopted with them as %XX, see `valid_text`); a name that cannot be adopted is
    reported as mismatched, the other files are adopted."""
    plan, names = [], {}
    for rel in folder.files:
        try:
            name = safe_relative_path(rel)
        except ValueError:
            name = None
        if name is None or name in names:
            why = (f"its name reads as {name!r} under raw/, like {valid_text(names[name])!r}" if name
                   else "its name cannot be used under raw/")
            report.mismatched.append(Mismatch(valid_text(rel), valid_text(str(folder.root / rel)), why))
            continue
        names[name] = rel
        plan.append((rel, name, None))
    return plan


def plan_adoption(folder: Folder, specs: list, report: IngestReport) -> list[tuple[str, str, object]]:
    """(relative path in DIR, name under raw/, spec or None) for every file to check and adopt;
    records missing files and incomplete MIRAX units in `report`."""
    basenames = folder.by_basename()
    plan: list[tuple[str, str, object]] = []
    taken: set[str] = set()
    listed = {spec.name for spec in specs}
    for spec in specs:
        found = find(folder, spec, basenames, taken)
        if found is None:
            report.missing.append(spec.name)
            continue
        taken.add(found)
        plan.append((found, spec.name, spec))
        if spec.name.lower().endswith(MIRAX_SUFFIX):
            plan += mirax_unit(folder, found, spec.name, listed, taken, report)
    return plan


def plan_patterns(folder: Folder, patterns: list[str], taken: set[str], report: IngestReport,
                  only: list[str] | None) -> list[tuple[str, str, None]]:
    """The files the entry expects by pattern, adopted under their path in DIR (a `.mrxs` with its
    folder); a pattern that matches nothing is reported missing, unless --files narrowed the ask."""
    plan: list[tuple[str, str, None]] = []
    for pattern in patterns:
        found = [rel for rel in folder.files if rel not in taken and matches_glob(rel, pattern)
                 and (not only or any(matches_glob(rel, glob) for glob in only))]
        if not found and not only and not any(matches_glob(rel, pattern) for rel in taken):
            report.missing.append(f"files matching {pattern}")
        for rel in found:
            if rel in taken:      # already part of an earlier match's MIRAX folder
                continue
            taken.add(rel)
            plan.append((rel, valid_text(rel), None))
            if rel.lower().endswith(MIRAX_SUFFIX):
                plan += mirax_unit(folder, rel, rel, set(), taken, report)
    return plan


def mirax_unit(folder: Folder, found: str, name: str, listed: set[str], taken: set[str],
               report: IngestReport) -> list[tuple[str, str, None]]:
    """The data folder that belongs to a `.mrxs`: every file in it, under the same relative layout."""
    members = folder.mirax_members(found)
    stem_name = name[: -len(MIRAX_SUFFIX)]
    if members is None:
        report.missing.append(f"{stem_name}/ (the MIRAX data folder of {name})")
        return []
    if not any(posixpath.basename(m).lower() == MIRAX_INDEX for m in members):
        report.mismatched.append(Mismatch(name, valid_text(str(folder.root / found[: -len(MIRAX_SUFFIX)])),
                                          "the MIRAX data folder has no Slidedat.ini (incomplete copy?)"))
    source_stem = found[: -len(MIRAX_SUFFIX)]
    unit = []
    for member in members:
        target = valid_text(stem_name + member[len(source_stem):])
        if member in taken or target in listed:
            continue
        taken.add(member)
        unit.append((member, target, None))
    return unit


def adopt_all(folder: Folder, plan, paths, report: IngestReport, quiet) -> None:
    """Check and link every planned file, with one progress display over all bytes."""
    total = sum(folder.size(rel) for rel, _, _ in plan)
    with TransferDisplay(quiet, files=len(plan), total_bytes=total) as display:
        for rel, name, spec in plan:
            adopted = check_and_adopt(folder.root / rel, name, spec, paths, report, display)
            if adopted:
                report.adopted.append(adopted)


def check_and_adopt(source: Path, name: str, spec, paths, report: IngestReport,
                    display) -> AdoptedFile | None:
    """Size, then checksums (one pass, plus sha256 for the record); adopt when they match."""
    expected = dict(spec.checksums) if spec is not None else {}
    check = check_with_progress(source, expected, spec.size if spec is not None else None, display)
    if "size" in check.failed:
        report.mismatched.append(Mismatch(name, valid_text(str(source)),
                                          f"size {check.size} bytes, expected {spec.size}"))
        return None
    if check.failed:
        report.mismatched.append(Mismatch(name, valid_text(str(source)), f"{check.failed[0]} differs from the "
                                          "registry (corrupted or a different version)"))
        return None
    target = paths.raw_file(name)
    linked = place(source, target, paths.work_dir(target))
    return AdoptedFile(name, valid_text(str(source)), check.size, check.digests["sha256"],
                       {a: check.digests[a] for a in expected}, linked)


def check_with_progress(path: Path, expected: dict[str, str], size: int | None, display):
    """`check_file` (one read: every algorithm plus sha256) shown on the transfer display."""
    handle = display.start_file(path.name, path.stat().st_size)
    try:
        return check_file(path, expected, size, progress=lambda n: display.advance(handle, n))
    finally:
        display.finish_file(handle)


def place(source: Path, target: Path, scratch: Path | None = None) -> bool:
    """Hard-link `source` at `target` (replacing what is there); copy only when linking is
    impossible (another filesystem, or a filesystem without links). True when linked. The
    temporary name is made in `scratch` (the dataset's `.partial/`, so no listed file in raw/ can
    be taken for it), else beside `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and os.path.samefile(source, target):
        return True
    source = source.resolve()      # a symlink in DIR: adopt the file it names, never the link
    folder = scratch if scratch is not None else target.parent
    folder.mkdir(parents=True, exist_ok=True)
    temporaries.reclaim(folder)
    temporary = temporaries.beside(folder / target.name)
    try:
        os.link(source, temporary)
        linked = True
    except OSError as err:
        log.debug("cannot hard-link %s (%s); copying", source, err.strerror)
        shutil.copyfile(source, temporary)
        linked = False
    os.replace(temporary, target)
    return linked

"""The fetch flow: a registry entry's sources -> verified raw files -> the dataset record -> standardize.

    fetch("bach")           list the first source's files, download what is missing into
                            <root>/<id>/raw/, verify sizes and checksums, record what was verified
                            in <root>/<id>/dataset.json, then standardize the dataset.
    verify("bach")          re-hash the raw files against the record, without the network.

Sources are tried in the entry's order: when one fails (unreachable, 404, quota, refused) the next
one is tried for the files still missing, and stderr says so. Pinned registry checksums win over
the provider's; files with no checksum from anywhere are checked by size and reported "unverified".
"""
from __future__ import annotations

import fnmatch
import glob
import posixpath
import sys
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from ._version import __version__
from .errors import AccessError, CredentialsError, DownloadError, HistodataError
from .layout import DatasetPaths, dataset_paths, read_record, write_record
from .redact import redact
from .sources.base import RemoteFile, apply_pinned, parallel_map

LISTED_NAMES = 5        # names shown when a --files pattern matches nothing
FROM_HINT = "When you have the files, adopt them with: histodata fetch {id} --from DIR"


# ----------------------------------------------------------------------------- reports
@dataclass
class FileOutcome:
    """One raw file of a fetch: planned (dry run), downloaded, present (already there) or adopted."""

    name: str
    size: int | None
    status: str
    checksum: str               # how the bytes are checked: "md5 (provider)", "size only (unverified)"
    source: str                 # "zenodo (source 1)"
    sha256: str | None = None

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
    standardize_note: str | None = None
    ingest: dict | None = None          # --from: adopted, missing, unexpected and mismatched files

    @property
    def total_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files)

    @property
    def downloaded_bytes(self) -> int:
        return sum(f.size or 0 for f in self.files if f.status == "downloaded")

    @property
    def unverified(self) -> list[str]:
        return [f.name for f in self.files if f.unverified]

    def to_dict(self) -> dict:
        document = asdict(self)
        for item, outcome in zip(document["files"], self.files, strict=True):
            item["unverified"] = outcome.unverified
        return {**document, "total_bytes": self.total_bytes, "downloaded_bytes": self.downloaded_bytes,
                "unverified": self.unverified}


@dataclass
class VerifyOutcome:
    name: str
    status: str                 # "ok", "missing" or "changed"
    size: int | None = None
    detail: str = ""
    unverified: bool = False    # never checked against a published checksum (only against itself)


@dataclass
class VerifyReport:
    dataset: str
    raw_dir: str
    files: list[VerifyOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(f.status == "ok" for f in self.files)

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok,
                "counts": {s: self.count(s) for s in ("ok", "missing", "changed")},
                "unverified": [f.name for f in self.files if f.unverified]}


# ----------------------------------------------------------------------------- small helpers
def notify(message: str) -> None:
    """A message for the person (stderr, redacted): fallbacks, completeness, unverified files."""
    print(redact(message), file=sys.stderr)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def source_label(index: int, kind: str) -> str:
    return f"{kind} (source {index + 1})"


def matches(name: str, pattern: str) -> bool:
    """A --files pattern against a relative path: fnmatch on the whole path or on the base name."""
    return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(posixpath.basename(name), pattern)


def unmatched_patterns(names: list[str], patterns: list[str]) -> list[str]:
    return [p for p in patterns if not any(matches(n, p) for n in names)]


def select(names: list[str], patterns: list[str] | None) -> list[str]:
    """The names a list of --files patterns selects (all without patterns); a pattern that
    matches nothing is an error that shows a few of the names there are."""
    if not patterns:
        return list(names)
    missing = unmatched_patterns(names, patterns)
    if missing:
        sample = ", ".join(sorted(names)[:LISTED_NAMES]) + (", ..." if len(names) > LISTED_NAMES else "")
        raise HistodataError(f"--files {' '.join(repr(p) for p in missing)} matched none of the "
                             f"{len(names)} file(s) (e.g. {sample}).",
                             "Patterns match the path under raw/ or the base name; quote them in the shell.")
    return [n for n in names if any(matches(n, p) for p in patterns)]


def is_permission_problem(error: BaseException | None) -> bool:
    """Refused for lack of access or credentials (for a batch: every failure was)."""
    failures = getattr(error, "failures", None)
    if failures:
        return all(is_permission_problem(e) for _, e in failures if e is not None)
    return isinstance(error, (AccessError, CredentialsError))


def access_error(entry, why: str) -> AccessError:
    """The error for data that needs a person: what went wrong, the entry's instructions, --from."""
    instructions = (entry.instructions or "").strip()
    message = f"{entry.id} cannot be downloaded automatically: {why}"
    if instructions:
        message += f" What to do: {' '.join(instructions.split())}"
    return AccessError(message, FROM_HINT.format(id=entry.id))


# ----------------------------------------------------------------------------- entry and sources
def load_entry(dataset_id: str):
    from .registry.loader import load_registry

    return load_registry().entry(dataset_id)


def entry_snapshot(entry) -> dict:
    from .registry.loader import entry_to_dict

    return entry_to_dict(entry)


def candidate_sources(entry, source_number: int | None) -> list[tuple[int, object]]:
    """(index, source) pairs to try, in order: only the N-th with --source, else every automatic one."""
    if source_number is not None:
        if not 1 <= source_number <= len(entry.sources):
            raise HistodataError(f"--source {source_number}: {entry.id} has {len(entry.sources)} source(s).",
                                 f"Run `histodata info {entry.id}` to see them.")
        chosen = entry.sources[source_number - 1]
        if chosen.kind == "manual":
            raise access_error(entry, f"source {source_number} is a manual download.")
        return [(source_number - 1, chosen)]
    automatic = [(i, s) for i, s in enumerate(entry.sources) if s.kind != "manual"]
    if not automatic:
        why = (f"its access is {entry.access!r} and it has no automatic source." if entry.access != "open"
               else "it has no automatic source.")
        raise access_error(entry, why)
    return automatic


def list_source(entry, index: int, source, session) -> list[RemoteFile]:
    """The source's files (only those matching its `include` globs, when it has some: a record may
    hold other datasets' files too), with the checksums of its published manifest
    (`checksums_file`) and the registry's pins applied; a pinned file the source lacks is an error."""
    from .sources import kind_module
    from .sources.manifests import apply_manifest

    remotes = kind_module(source.kind).list_files(source, session, entry)
    for remote in remotes:
        remote.source_kind = remote.source_kind or source.kind
    apply_manifest(remotes, source, session)
    apply_pinned(remotes, source.files)
    names = {r.name for r in remotes}
    lacking = [spec.name for spec in source.files or [] if spec.name not in names]
    if lacking:
        raise DownloadError(f"{source_label(index, source.kind)} no longer has {len(lacking)} file(s) the "
                            f"registry lists (e.g. {lacking[0]!r}).",
                            "The record may have changed; the registry entry needs an update.")
    twice = sorted(name for name, count in Counter(r.name for r in remotes).items() if count > 1)
    if twice:
        raise DownloadError(f"{source_label(index, source.kind)} lists {len(twice)} name(s) more than once "
                            f"(e.g. {twice[0]!r}); the files would overwrite each other.",
                            "Report the entry: its source needs distinct file names.")
    include = getattr(source, "include", None)
    if include:
        patterns = [include] if isinstance(include, str) else list(include)
        remotes = [r for r in remotes if any(matches(r.name, p) for p in patterns)]
    return remotes


# ----------------------------------------------------------------------------- what is on disk
def recorded_files(paths: DatasetPaths) -> dict:
    return read_record(paths).get("files") or {}


def is_present(remote: RemoteFile, recorded: dict | None, paths: DatasetPaths) -> bool:
    """On disk as recorded (size check, no re-hash) and consistent with what the source expects."""
    if not recorded:
        return False
    path = paths.raw_file(remote.name)
    size = recorded.get("size")
    if not path.is_file() or path.stat().st_size != size:
        return False
    if remote.size is not None and remote.size != size:
        return False
    known = {**(recorded.get("verified") or {}), "sha256": recorded.get("sha256")}
    return all(known.get(a) in (None, v) for a, v in remote.checksums.items())


def complete_on_disk(entry, paths: DatasetPaths, patterns: list[str] | None) -> list[str] | None:
    """The selected names when a previous fetch left them all in place (for the same entry
    sources), judged from the record and file sizes alone; None when the network is needed."""
    record = read_record(paths)
    expected = (record.get("fetch") or {}).get("expected")
    if not expected or (record.get("entry") or {}).get("sources") != entry_snapshot(entry).get("sources"):
        return None
    if patterns and unmatched_patterns(expected, patterns):
        return None
    wanted = select(expected, patterns)
    files = record.get("files") or {}
    for name in wanted:
        info = files.get(name)
        path = paths.raw_file(name)
        if not info or not path.is_file() or path.stat().st_size != info.get("size"):
            return None
    return wanted


def outcome_from_record(name: str, info: dict, status: str) -> FileOutcome:
    verified = sorted(info.get("verified") or {})
    against = info.get("verified_against") or "none"
    checksum = f"{'+'.join(verified)} ({against})" if verified else "size only (unverified)"
    source = source_label(info.get("source_index", 0), info.get("source_kind", "?"))
    return FileOutcome(name, info.get("size"), status, checksum, source, info.get("sha256"))


def reuse_unrecorded_files(remotes: list[RemoteFile], paths: DatasetPaths):
    """Files already in raw/ but not in the record (a run interrupted before it could record them,
    or files copied in): re-hash them locally and keep those that match. Returns (pairs of
    remote and result for the kept ones, the remotes still to download)."""
    from .transfer import DownloadResult
    from .transfer.hashing import StreamHasher, mismatches

    kept, rest = [], []
    for remote in remotes:
        path = paths.raw_file(remote.name)
        size = path.stat().st_size if path.is_file() else None
        unknowable = remote.size is None and not remote.checksums
        if size is None or unknowable or (remote.size is not None and size != remote.size):
            rest.append(remote)
            continue
        hasher = StreamHasher(list(remote.checksums))
        try:
            hasher.update_from_file(path, size)
        finally:
            digests = hasher.hexdigests()
        if mismatches(remote.checksums, digests):
            rest.append(remote)
        else:
            result = DownloadResult(path, size, digests, sorted(remote.checksums), url=remote.url)
            kept.append((remote, result))
    return kept, rest


# ----------------------------------------------------------------------------- downloading
KIND_DOWNLOAD_WORKERS = 2


def download_remotes(remotes: list[RemoteFile], job, session):
    """Download `remotes` into raw/: (pairs of remote and DownloadResult that succeeded, error or None)."""
    from .transfer import DownloadTask, download_many

    paths, workers, quiet = job.paths, job.workers, job.quiet
    by_path, tasks, by_kind, done, failures = {}, [], [], [], []
    for remote in remotes:
        path = paths.raw_file(remote.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        by_path[str(path.absolute())] = remote
        if remote.downloader:
            by_kind.append((remote, path))
        else:
            tasks.append(DownloadTask(url=remote.url, path=path, checksums=dict(remote.checksums),
                                      size=remote.size, headers=dict(remote.headers), name=remote.name))
    # Files whose kind needs its own step (Drive, Kaggle, DSA crops): a couple at a time, politely.
    outcomes = parallel_map(lambda pair: download_with_kind(pair[0], pair[1], session, quiet), by_kind,
                            workers=KIND_DOWNLOAD_WORKERS)
    for (remote, _), outcome in zip(by_kind, outcomes, strict=True):
        (failures if isinstance(outcome, HistodataError) else done).append((remote, outcome))
    results = []
    if tasks:
        try:
            results = download_many(tasks, workers=workers or 4, quiet=quiet, session=session)
        except DownloadError as err:
            results = list(getattr(err, "results", []))
            inner = [e for _, e in getattr(err, "failures", []) if e is not None]
            failures.append((None, inner[0] if len(inner) == 1 else err))  # one failure: its own type
    done += [(by_path[str(r.path.absolute())], r) for r in results]
    return done, combined_error([e for _, e in failures])


def remove_download_locks(paths: DatasetPaths, names: list[str]) -> None:
    """raw/ holds the dataset's files only: the engine's per-file `.<name>.lock` files of finished
    downloads go (this fetch holds the dataset lock; a file with a partial left keeps its lock)."""
    for name in names:
        target = paths.raw_file(name)
        lock = target.with_name(f".{target.name}.lock")
        if lock.exists() and not any(target.parent.glob(f".{glob.escape(target.name)}.*.partial")):
            lock.unlink(missing_ok=True)


def download_with_kind(remote: RemoteFile, path, session, quiet):
    """A file whose kind needs its own step (e.g. Drive's confirm form): its module downloads it."""
    import importlib

    from .sources import KIND_MODULES

    module_name = KIND_MODULES.get(remote.downloader, remote.downloader.replace("-", "_"))
    try:
        return importlib.import_module(f"histodata.sources.{module_name}").download(
            remote, path, session, quiet=quiet)
    except HistodataError as err:
        return err


def combined_error(errors: list[HistodataError]) -> HistodataError | None:
    if len(errors) <= 1:
        return errors[0] if errors else None
    error = DownloadError(" | ".join(str(e) for e in errors), "Run the same command again to retry.")
    error.failures = [(None, e) for e in errors]  # type: ignore[attr-defined]
    return error


def file_record(remote: RemoteFile, result, index: int, when: str) -> dict:
    """What the record keeps of one verified raw file."""
    verified = {a: result.hashes[a] for a in result.verified if a in result.hashes}
    return {"size": result.size, "sha256": result.hashes["sha256"], "verified": verified,
            "verified_against": (remote.checksum_origin or "provider") if verified else "none",
            "source_kind": remote.source_kind, "source_index": index, "fetched_at": when,
            "histodata_version": __version__}


def save_record(paths: DatasetPaths, entry, new_files: dict, fetch_part: dict) -> None:
    """Merge our parts (`entry`, `files`, `fetch`) into the record; other parts are kept."""
    record = read_record(paths)
    record["entry"] = entry_snapshot(entry)
    record["files"] = {**(record.get("files") or {}), **new_files}
    record["fetch"] = {**(record.get("fetch") or {}), **fetch_part}
    write_record(paths, record)


# ----------------------------------------------------------------------------- the flow
@dataclass
class Job:
    """What every step of one fetch needs."""

    entry: object
    paths: DatasetPaths
    patterns: list[str]
    workers: int | None = None
    quiet: bool | None = None
    standardize: bool = True


def fetch(dataset_id: str, root=None, files: list[str] | None = None, from_dir=None, dry_run: bool = False,
          workers: int | None = None, quiet: bool | None = None, source: int | None = None,
          standardize: bool = True) -> FetchReport:
    """Download, verify and standardize a dataset into `<root>/<id>/`; returns what was done.

    `files`: glob patterns selecting a subset (path under raw/ or base name); `from_dir`: adopt
    files downloaded by hand; `dry_run`: only list what would be downloaded; `source`: use only
    the entry's N-th source (1-based).
    """
    entry = load_entry(dataset_id)
    job = Job(entry, dataset_paths(entry.id, root), list(files or []), workers, quiet, standardize)
    if from_dir is not None:
        return adopt(job, from_dir)
    candidates = candidate_sources(entry, source)
    if dry_run:
        return fetch_from_sources(job, candidates, dry_run=True)
    present = complete_on_disk(entry, job.paths, job.patterns)
    if present is not None:
        return report_complete(job, present)
    with dataset_lock(job.paths):
        report = fetch_from_sources(job, candidates)
    say_unverified(report)
    finish(job, report)
    return report


@contextmanager
def dataset_lock(paths: DatasetPaths):
    """One fetch per dataset at a time (the record is shared); a second one waits and says so."""
    from filelock import FileLock, Timeout

    paths.base.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(paths.lock))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        notify(f"another histodata process is fetching {paths.id}; waiting for it to finish ...")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def fetch_from_sources(job: Job, candidates, dry_run: bool = False) -> FetchReport:
    """Try each source in turn for the files still missing; fall back on failure and say so."""
    from .http import new_session

    report = FetchReport(job.entry.id, str(job.paths.raw), dry_run=dry_run)
    session = new_session(pool_size=max(16, job.workers or 4))
    errors: list[tuple[str, HistodataError]] = []
    for position, (index, source) in enumerate(candidates):
        label = source_label(index, source.kind)
        try:
            with listing_status(label, job.quiet):
                remotes = list_source(job.entry, index, source, session)
            chosen = set(select([r.name for r in remotes], job.patterns))
            if dry_run:
                report.files = plan(job.paths, remotes, chosen, label)
            else:
                fetch_missing(job, index, label, remotes, chosen, session, report)
            report.sources_used.append(label)
            return report
        except (AccessError, CredentialsError, DownloadError) as err:  # this source failed: try the next
            errors.append((label, err))
            if position + 1 < len(candidates):
                next_index, next_source = candidates[position + 1]
                message = f"{label} failed: {err} Trying {source_label(next_index, next_source.kind)} ..."
                report.fallbacks.append(redact(message))
                notify(message)
    raise all_sources_failed(job.entry, errors)


def listing_status(label: str, quiet: bool | None):
    """A spinner on standard error while a source is listed (a terminal only, unless quiet)."""
    import contextlib

    from .transfer.progress import is_quiet

    if is_quiet(quiet):
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"Listing the files of {label} ...")


def all_sources_failed(entry, errors: list[tuple[str, HistodataError]]) -> HistodataError:
    if all(is_permission_problem(e) for _, e in errors):
        return access_error(entry, " ".join(f"{label}: {err}" for label, err in errors))
    if len(errors) == 1:
        return errors[0][1]
    return DownloadError(f"every source of {entry.id} failed: "
                         + " | ".join(f"{label}: {err}" for label, err in errors),
                         "Check your connection and run the same command again (finished files are kept).")


def plan(paths: DatasetPaths, remotes: list[RemoteFile], chosen: set[str], label: str) -> list[FileOutcome]:
    """A dry run's list: every chosen file, `present` when already on disk, else `planned`."""
    recorded = recorded_files(paths)
    status = {r.name: "present" if is_present(r, recorded.get(r.name), paths) else "planned" for r in remotes}
    return [FileOutcome(r.name, r.size, status[r.name], r.verified_by, label)
            for r in remotes if r.name in chosen]


def fetch_missing(job: Job, index: int, label: str, remotes: list[RemoteFile], chosen: set[str], session,
                  report: FetchReport) -> None:
    """Download the chosen files not yet on disk from one source and record them;
    raises the source's error (after recording the files that succeeded)."""
    paths = job.paths
    recorded = recorded_files(paths)
    selected = [r for r in remotes if r.name in chosen]
    todo = [r for r in selected if not is_present(r, recorded.get(r.name), paths)]
    reused, todo = reuse_unrecorded_files(todo, paths)
    done, error = download_remotes(todo, job, session) if todo else ([], None)
    remove_download_locks(paths, [remote.name for remote, _ in done])
    when = now_iso()
    new_files = {remote.name: file_record(remote, result, index, when) for remote, result in reused + done}
    all_files = {**recorded, **new_files}
    complete = all(r.name in all_files and paths.raw_file(r.name).is_file() for r in remotes)
    save_record(paths, job.entry, new_files, {
        "time": when, "histodata_version": __version__, "expected": sorted(r.name for r in remotes),
        "complete": complete, "sources": sources_so_far(paths, label)})
    downloaded = {r.name for r, _ in done}
    report.files = [outcome_from_record(r.name, all_files[r.name], "downloaded" if r.name in downloaded
                                        else "present") for r in selected if r.name in all_files]
    report.complete = complete
    if error is not None:
        if done:
            notify(f"{len(done)} file(s) from {label} arrived and are verified; they are kept.")
        raise error


def sources_so_far(paths: DatasetPaths, label: str) -> list[str]:
    """The labels of every source that delivered files of this dataset, this one included."""
    return sorted({*((read_record(paths).get("fetch") or {}).get("sources") or []), label})


def report_complete(job: Job, names: list[str]) -> FetchReport:
    """A fetch with nothing to download: say so (and standardize if that was never done)."""
    from .cli import human_size

    paths = job.paths
    files = recorded_files(paths)
    complete = not job.patterns and bool((read_record(paths).get("fetch") or {}).get("complete"))
    report = FetchReport(job.entry.id, str(paths.raw), already_complete=True, complete=complete)
    report.files = [outcome_from_record(n, files[n], "present") for n in names]
    notify(f"{job.entry.id} is complete: {len(names)} file(s), {human_size(report.total_bytes)} already in "
           f"{paths.raw}; nothing to download.")
    finish(job, report)
    return report


def say_unverified(report: FetchReport) -> None:
    names = report.unverified
    if names:
        notify(f"{len(names)} file(s) are unverified: no checksum was published for them, only their size "
               f"was checked where known (e.g. {names[0]}). Pin a sha256 in the registry entry to verify "
               "them.")


def finish(job: Job, report: FetchReport) -> None:
    """Standardize after a complete fetch, when the entry says how and the caller wants it
    (the standardizer itself skips work already done)."""
    if not job.standardize or job.entry.standardize is None:
        return
    if not report.complete:
        report.standardize_note = "skipped: only part of the dataset is on disk (run without --files)"
        notify(f"Standardization {report.standardize_note}.")
        return
    try:
        from .standardize import standardize_dataset
    except ImportError:
        report.standardize_note = "skipped: the standardizers are not available in this installation"
        return
    with dataset_lock(job.paths):   # images/, the manifest and the record: one process at a time
        standardize_dataset(job.entry, job.paths, quiet=job.quiet)
    report.standardized = True


# ----------------------------------------------------------------------------- manual ingest (--from)
def expected_specs(entry) -> list:
    """What a person should end up with (the manual kind decides)."""
    from .sources.manual import expected_specs as manual_expected

    return manual_expected(entry)


def adopt(job: Job, from_dir) -> FetchReport:
    """--from DIR: the manual kind adopts the files, then the record and standardize steps run."""
    from .sources import kind_module

    specs = expected_specs(job.entry)
    selected = None
    if job.patterns:
        wanted = set(select([s.name for s in specs], job.patterns))
        selected = [s for s in specs if s.name in wanted]
    with dataset_lock(job.paths):
        ingest = kind_module("manual").ingest(job.entry, from_dir, job.paths, files=selected, quiet=job.quiet)
        report = record_ingest(job, ingest, whole=selected is None)
    say_unverified(report)
    finish(job, report)
    return report


def record_ingest(job: Job, ingest, whole: bool) -> FetchReport:
    """Record what the manual ingest adopted (an IngestReport), in the same form as downloads."""
    entry, paths, label, when = job.entry, job.paths, "manual (--from)", now_iso()
    manual_index = next((i for i, s in enumerate(entry.sources) if s.kind == "manual"), -1)
    new_files = {adopted.name: {
        "size": adopted.size, "sha256": adopted.sha256, "verified": dict(adopted.verified),
        "verified_against": "registry" if adopted.verified else "none", "source_kind": "manual",
        "source_index": manual_index, "fetched_at": when, "histodata_version": __version__}
        for adopted in ingest.adopted}
    complete = whole and not ingest.missing and not ingest.mismatched
    save_record(paths, entry, new_files, {
        "time": when, "histodata_version": __version__, "complete": complete,
        "expected": sorted(s.name for s in expected_specs(entry)) or None,
        "sources": sources_so_far(paths, label)})
    report = FetchReport(entry.id, str(paths.raw), complete=complete, sources_used=[label], ingest=ingest.to_dict())
    report.files = [outcome_from_record(n, info, "adopted") for n, info in new_files.items()]
    return report


# ----------------------------------------------------------------------------- verify
def registry_checksums(dataset_id: str, record: dict) -> dict[tuple[int, str], dict[str, str]]:
    """{(source index, name): pinned checksums} from the registry (else the record's snapshot)."""
    try:
        sources = [s.model_dump(mode="json") for s in load_entry(dataset_id).sources]
    except HistodataError:
        sources = (record.get("entry") or {}).get("sources") or []
    pinned = {}
    for index, source in enumerate(sources):
        for spec in source.get("files") or []:
            sums = {a: spec[a] for a in ("md5", "sha1", "sha256", "sha512") if spec.get(a)}
            if sums:
                pinned[(index, spec["name"])] = sums
    return pinned


def verify(dataset_id: str, root=None, quiet: bool | None = None) -> VerifyReport:
    """Re-hash the raw files against the record's sha256 and the registry's checksums, offline."""
    from .transfer.progress import TransferDisplay

    paths = dataset_paths(dataset_id, root)
    record = read_record(paths)
    files = record.get("files") or {}
    if not files:
        raise HistodataError(f"nothing to verify: no fetched files of {dataset_id} are recorded in "
                             f"{paths.base}.",
                             f"Run `histodata fetch {dataset_id}` first (or pass the --root it used).")
    pinned = registry_checksums(dataset_id, record)
    report = VerifyReport(dataset_id, str(paths.raw))
    total = sum(info.get("size") or 0 for info in files.values())
    with TransferDisplay(quiet, files=len(files), total_bytes=total) as display:
        for name, info in sorted(files.items()):
            handle = display.start_file(name, info.get("size"))
            pins = pinned.get((info.get("source_index"), name), {})
            report.files.append(verify_file(paths, name, info, pins))
            display.advance(handle, info.get("size") or 0)
            display.finish_file(handle)
    return report


def verify_file(paths: DatasetPaths, name: str, info: dict, pinned: dict[str, str]) -> VerifyOutcome:
    from .transfer.hashing import StreamHasher, mismatches

    unverified = not info.get("verified") and not pinned
    path = paths.raw_file(name)
    if not path.is_file():
        return VerifyOutcome(name, "missing", info.get("size"), "not on disk", unverified)
    size = path.stat().st_size
    if size != info.get("size"):
        detail = f"size {size} bytes, recorded {info.get('size')}"
        return VerifyOutcome(name, "changed", size, detail, unverified)
    expected = {**pinned, **({"sha256": info["sha256"]} if info.get("sha256") else {})}
    hasher = StreamHasher(list(expected))
    try:
        hasher.update_from_file(path, size)
    finally:
        digests = hasher.hexdigests()
    wrong = mismatches(expected, digests)
    if wrong:
        return VerifyOutcome(name, "changed", size, "; ".join(wrong), unverified)
    return VerifyOutcome(name, "ok", size, "", unverified)


# ----------------------------------------------------------------------------- CLI handlers
def fetch_command(args) -> int:
    """`histodata fetch`: a dry-run table on stdout, else messages on stderr; --json a report."""
    from .cli import emit_json, human_size

    report = fetch(args.id, root=args.root, files=args.files, from_dir=args.from_dir, dry_run=args.dry_run,
                   workers=args.workers, quiet=True if args.quiet else None, source=args.source,
                   standardize=not args.no_standardize)
    if args.json:
        emit_json(report.to_dict())
    elif report.dry_run:
        print_plan(report)
    elif not report.already_complete:
        fetched = sum(f.status in ("downloaded", "adopted") for f in report.files)
        notify(f"{report.dataset}: {fetched} file(s) fetched ({human_size(report.downloaded_bytes)}), "
               f"{len(report.files)} in place in {report.raw_dir}"
               + (" and standardized." if report.standardized else "."))
    return 0


def print_plan(report: FetchReport) -> None:
    from rich.table import Table

    from .cli import human_size, stdout_console

    sources = ", ".join(report.sources_used)
    table = Table(title=f"{report.dataset}: {len(report.files)} file(s) from {sources}")
    for column in ("name", "size", "checksum", "source"):
        table.add_column(column, overflow="fold", justify="right" if column == "size" else "left")
    for f in report.files:
        table.add_row(f.name, human_size(f.size) or "?", f.checksum, f.source)
    unknown = sum(f.size is None for f in report.files)
    present = [f for f in report.files if f.status == "present"]
    table.caption = (f"total {human_size(report.total_bytes)}"
                     + (f" + {unknown} file(s) of unknown size" if unknown else "")
                     + (f"; {len(present)} file(s) ({human_size(sum(f.size or 0 for f in present))}) "
                        "already on disk" if present else ""))
    stdout_console().print(table)


def verify_command(args) -> int:
    """`histodata verify`: one line per problem, a summary; exit 1 when anything is missing or changed."""
    from .cli import emit_json

    report = verify(args.id, root=args.root)
    if args.json:
        emit_json(report.to_dict())
        return 0 if report.ok else 1
    for f in report.files:
        if f.status != "ok":
            notify(f"{f.status}: {f.name}" + (f" ({f.detail})" if f.detail else ""))
    unverified = [f.name for f in report.files if f.unverified and f.status == "ok"]
    if unverified:
        notify(f"{len(unverified)} file(s) are unverified: no published checksum, only checked against the "
               f"sha256 recorded when they were fetched (e.g. {unverified[0]}).")
    notify(f"{report.dataset}: {report.count('ok')} ok, {report.count('missing')} missing, "
           f"{report.count('changed')} changed." + ("" if report.ok else
                                                    f" Run `histodata fetch {report.dataset}` to repair."))
    return 0 if report.ok else 1

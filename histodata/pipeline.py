"""The fetch flow: a registry entry's sources -> verified raw files -> the dataset record -> standardize.

    fetch("bach")    list the first source's files, download what is missing into <root>/<id>/raw/,
                     verify sizes and checksums, record what was verified in <root>/<id>/dataset.json,
                     then standardize the dataset.

Sources are tried in the entry's order: when one fails (unreachable, 404, quota, refused) the next
one is tried for the files still missing, and a warning says so. Pinned registry checksums win over
the provider's; files with no checksum from anywhere are checked by size and reported "unverified".
The steps live in their modules: `sources.resolve` (which files), `sources.dispatch` (how they
download), `record` (what is kept), `state` (what is on disk), `adopt` (--from), `verification` (verify).
"""
from __future__ import annotations

import logging
import os
from contextlib import nullcontext
from dataclasses import dataclass, field

from .adopt import adopt, incomplete_adoption
from .cluster import open_runner
from .console import human_size
from .constants import offline
from .croissant import write_croissant
from .errors import (AccessError, BatchError, CredentialsError, DownloadError, HistodataError, StandardizeError,
                     failure_summary)
from .http import new_session
from .layout import DatasetPaths, dataset_paths
from .record import DatasetRecord, FetchState, FileRecord, dataset_lock, now_iso, save_fetch
from .redact import redact
from .registry.kinds import KINDS
from .registry.loader import entry_to_dict, load_registry
from .reports import FetchReport, FileOutcome, source_label
from .shards import in_shard, parse_shard
from .sources import kind_module
from .sources.dispatch import download_remotes
from .sources.resolve import access_error, candidate_sources, list_source, pinned_listing
from .sources.select import check_fields, parse_where, selected
from .standardize import refresh, works_on_part
from .state import complete_on_disk, is_present, reuse_unrecorded_files
from .progress import listing_status

log = logging.getLogger(__name__)


@dataclass
class Job:
    """What every step of one fetch needs."""

    entry: object
    paths: DatasetPaths
    patterns: list[str]
    workers: int | None = None
    quiet: bool | None = None
    standardize: bool = True
    where: list = field(default_factory=list)     # sources.select conditions (--where)
    connections: int | None = None                # most connections for one large file (--connections)
    runner: object = None                         # cluster.ClusterRunner: downloads as Dask tasks
    shard: tuple[int, int] | None = None          # (I, N): only the I-th of N parts (shards.py)

    def record_lock(self):
        """Shards run at once into one root: each holds the dataset lock only to write the record
        (per-file locks keep their downloads apart); one plain fetch holds it throughout."""
        return dataset_lock(self.paths) if self.shard else nullcontext()


def fetch(dataset_id: str, root=None, files: list[str] | None = None, from_dir=None, dry_run: bool = False,
          workers: int | None = None, quiet: bool | None = None, source: int | None = None,
          standardize: bool = True, where=None, client=None, shard=None,
          connections: int | None = None) -> FetchReport:
    """Download, verify and standardize a dataset into `<root>/<id>/`; returns what was done.

    `files`: glob patterns selecting a subset (path under raw/ or base name); `where`: per-file
    metadata conditions, `{"project": "TCGA-BRCA", "case": ["A", "B"]}` or `["project=TCGA-BRCA"]`
    (all must hold; a list or `A,B` = either); `from_dir`: adopt files downloaded by hand;
    `dry_run`: only list what would be downloaded; `source`: use only the entry's N-th source
    (1-based); `client`: a `distributed.Client` (or a scheduler address, `local`, `local:N`) whose
    workers download into the root (see `histodata.cluster`); `shard`: `(i, n)` or `"i/n"`, only
    the i-th of n deterministic parts of the selected files (job arrays; see `histodata.shards`);
    `connections`: most connections for one large file (1 = one stream). Raises when not everything
    asked for ends in place, verified.
    """
    entry = load_registry().entry(dataset_id)
    job = Job(entry, dataset_paths(entry.id, root), list(files or []), workers, quiet, standardize,
              parse_where(where), connections, shard=parse_shard(shard))
    with open_runner(None if dry_run else client) as job.runner:      # (a dry run downloads nothing)
        return fetch_job(job, from_dir, dry_run, source)


def fetch_job(job: Job, from_dir, dry_run: bool, source: int | None) -> FetchReport:
    entry = job.entry
    if from_dir is not None:
        report = adopt(entry, job.paths, from_dir, job.patterns, job.quiet)
        say_unverified(report)
        finish(job, report)
        if not report.ingest["ok"]:
            raise incomplete_adoption(entry.id, report.ingest, report)
        return report
    candidates = candidate_sources(entry, source)
    check_fields(entry, job.where, [s for _, s in candidates])
    if dry_run:
        return fetch_from_sources(job, candidates, dry_run=True)
    if not job.patterns and not job.where and DatasetRecord.read(job.paths).dropped_files:
        return report_dropped(job)
    sources = entry_to_dict(entry).get("sources")      # (a --where selection needs the listing)
    present = None if job.where else complete_on_disk(DatasetRecord.read(job.paths), sources, job.paths,
                                                      job.patterns)
    if present is not None:
        return report_complete(job, present)
    with nullcontext() if job.shard else dataset_lock(job.paths):
        report = fetch_from_sources(job, candidates)
    say_unverified(report)
    finish(job, report)
    return report


def fetch_from_sources(job: Job, candidates, dry_run: bool = False) -> FetchReport:
    """Try each source in turn for the files still missing; fall back on failure and say so."""
    report = FetchReport(job.entry.id, str(job.paths.raw), dry_run=dry_run)
    session = new_session(pool_size=max(16, job.workers or 4), connections=job.connections)
    errors: list[tuple[str, HistodataError]] = []
    in_place = 0        # files of the selection verified on disk when a source failed
    for position, (index, source) in enumerate(candidates):
        label = source_label(index, source.kind)
        try:
            if dry_run:
                report.files, report.listed_from = plan(job, index, source, session)
                report.group_by = KINDS[source.kind].group_by
            else:
                with listing_status(label, job.quiet):
                    remotes = list_source(job.entry, index, source, session)
                fetch_missing(job, index, label, remotes, session, report)
            report.sources_used.append(label)
            return report
        except (AccessError, CredentialsError, DownloadError) as err:  # this source failed: try the next
            errors.append((label, err))
            in_place = max(in_place, len(report.files))
            if position + 1 < len(candidates):
                next_index, next_source = candidates[position + 1]
                message = f"{label} failed: {err} Trying {source_label(next_index, next_source.kind)} ..."
                report.fallbacks.append(redact(message))
                log.warning("%s", message)
    raise all_sources_failed(job.entry, errors, in_place)


def plan(job: Job, index: int, source, session) -> tuple[list[FileOutcome], str | None]:
    """A dry run's list: every chosen file, `present` when already on disk, else `planned`. A source
    whose registry entry pins every file with its size is answered without the network."""
    label = source_label(index, source.kind)
    remotes = None if job.where else pinned_listing(source, sizes_required=not offline())
    listed_from = "registry" if remotes is not None else None
    estimate = getattr(kind_module(source.kind), "estimate", None)
    if remotes is None and estimate is not None:      # an index answers without listing every object
        remotes, listed_from = estimate(source, session, job.entry), "index"
    if remotes is None:
        with listing_status(label, job.quiet):
            remotes = list_source(job.entry, index, source, session)
    chosen = selected(remotes, job.patterns, job.where, label, source.kind)
    recorded = DatasetRecord.read(job.paths).intact_files()
    status = {True: "present", False: "planned"}
    return [FileOutcome(r.name, r.size, status[is_present(r, recorded.get(r.name), job.paths)], r.verified_by,
                        label, metadata=dict(r.metadata)) for r in chosen], listed_from


def fetch_missing(job: Job, index: int, label: str, remotes, session, report: FetchReport) -> None:
    """Download the chosen files not yet on disk from one source and record them;
    raises the source's error (after recording the files that succeeded)."""
    paths = job.paths
    kind = remotes[0].source_kind if remotes else ""
    chosen = in_shard(selected(remotes, job.patterns, job.where, label, kind), job.shard)
    record = DatasetRecord.read(paths)
    recorded = record.intact_files()
    todo = [r for r in chosen if not is_present(r, recorded.get(r.name), paths)]
    reused, todo = reuse_unrecorded_files(todo, paths, record.damaged)
    done, error = [], None
    if todo and job.runner is not None:      # each file a task on the cluster's workers
        done, error = job.runner.download(todo, paths, job.workers, job.quiet)
    elif todo:
        done, error = download_remotes(todo, paths, session, job.workers, job.quiet)
    when = now_iso()
    new_files = {remote.name: FileRecord.build(result.size, result.hashes, result.verified,
                                               remote.checksum_origin, remote.source_kind, index, when,
                                               remote.metadata)
                 for remote, result in reused + done}
    all_files = {**recorded, **new_files}
    with job.record_lock():
        if job.shard:     # what the other shards recorded meanwhile counts too
            all_files = {**DatasetRecord.read(paths).intact_files(), **new_files}
        complete = all(r.name in all_files and paths.raw_file(r.name).is_file() for r in remotes)
        state = FetchState(time=when, expected=sorted(r.name for r in remotes), complete=complete,
                           sources=[label])
        save_fetch(paths, new_files, state, entry_to_dict(job.entry))
    downloaded = {r.name for r, _ in done}
    report.files = [FileOutcome.from_record(r.name, all_files[r.name], "downloaded" if r.name in downloaded
                                            else "present") for r in chosen if r.name in all_files]
    report.complete = complete
    if error is not None:
        if done:
            log.info("%d file(s) from %s arrived and are verified; they are kept.", len(done), label)
        raise error


def report_complete(job: Job, names: list[str]) -> FetchReport:
    """A fetch with nothing to download: say so (and standardize if that was never done)."""
    record = DatasetRecord.read(job.paths)
    complete = not job.patterns and bool(record.fetch and record.fetch.complete)
    report = FetchReport(job.entry.id, str(job.paths.raw), already_complete=True, complete=complete)
    report.files = [FileOutcome.from_record(n, record.files[n], "present") for n in names]
    log.info("%s is complete: %d file(s), %s already in %s; nothing to download.", job.entry.id, len(names),
             human_size(report.total_bytes), job.paths.raw)
    finish(job, report)
    return report


def report_dropped(job: Job) -> FetchReport:
    """A fetch after `rm --raw-only`: the raw files are gone on purpose, not missing; the
    standardized copy is checked (and a damaged one says how to get the raw files back)."""
    record = DatasetRecord.read(job.paths)
    report = FetchReport(job.entry.id, str(job.paths.raw), already_complete=True, complete=True)
    log.info("%s: its raw files were removed on purpose (%d file(s), %s); the standardized copy is what is "
             "kept. To download them again: `histodata fetch %s --files '*'`.", job.entry.id,
             len(record.dropped_files), record.raw_dropped.get("time"), job.entry.id)
    if job.standardize and job.entry.standardize is not None:    # a damaged copy: say how to get raw back
        refresh(job.entry, job.paths, quiet=job.quiet, partial=bool(record.standardized.get("partial")))
        report.standardized = True
    return report


def say_unverified(report: FetchReport) -> None:
    names = report.unverified
    if names:
        log.warning("%d file(s) are unverified: no checksum was published for them, only their size was "
                    "checked where known (e.g. %s). Pin a sha256 in the registry entry to verify them.",
                    len(names), names[0])


def finish(job: Job, report: FetchReport) -> None:
    """Standardize after a complete fetch (or a partial one, for standardizers whose samples are
    independent), when the entry says how and the caller wants it; a damaged standardized copy
    is made again (`standardize.refresh` skips work already done)."""
    if not job.standardize or job.entry.standardize is None:
        return
    if job.shard:
        report.standardize_note = (f"skipped: shard {job.shard[0]}/{job.shard[1]} (run `histodata fetch "
                                   f"{job.entry.id}` once every shard is done: it finishes and standardizes)")
        log.info("Standardization %s.", report.standardize_note)
        return
    if not report.complete and not works_on_part(job.entry):
        report.standardize_note = "skipped: " + incomplete_reason(job, report)
        log.info("Standardization %s.", report.standardize_note)
        return
    if report.complete:
        refresh(job.entry, job.paths, quiet=job.quiet, partial=False, runner=job.runner)
    else:
        standardize_part(job, report)
    report.standardized = report.standardize_note is None
    report.standardized_part = report.standardized and not report.complete
    if report.standardized:
        describe(job)


def describe(job: Job) -> None:
    """The Croissant description next to the manifest, (re)written when the manifest is newer or it is
    missing (a dataset standardized before histodata wrote one); a read-only copy is left as it is."""
    paths = job.paths
    if not paths.manifest.exists() or not os.access(paths.base, os.W_OK):
        return
    if paths.croissant.exists() and paths.croissant.stat().st_mtime >= paths.manifest.stat().st_mtime:
        return
    with dataset_lock(paths):
        write_croissant(entry_to_dict(job.entry), paths)


def standardize_part(job: Job, report: FetchReport) -> None:
    """Standardize the part on disk; files that are not enough for it (a subset without the
    standardizer's inputs) leave a note, not a failed fetch."""
    try:
        refresh(job.entry, job.paths, quiet=job.quiet, runner=job.runner)     # partial: as the record's last fetch says
    except StandardizeError as err:
        report.standardize_note = f"skipped: the files on disk are not enough to standardize ({err})"
        log.info("Standardization %s.", report.standardize_note)


def incomplete_reason(job: Job, report: FetchReport) -> str:
    if job.patterns:
        return "only part of the dataset is on disk (run without --files)"
    if report.ingest is not None:
        return "files of the registry's list are missing or do not match"
    return "not every file of the source is on disk"


def is_permission_problem(error: BaseException | None) -> bool:
    """Refused for lack of access or credentials (for a batch: every failure was)."""
    if isinstance(error, BatchError) and error.failures:
        return all(is_permission_problem(e) for _, e in error.failures if e is not None)
    return isinstance(error, (AccessError, CredentialsError))


def all_sources_failed(entry, errors: list[tuple[str, HistodataError]], in_place: int = 0) -> HistodataError:
    """The error after every source failed. Refusals of the whole entry read as its access error
    (with what to do by hand); refusals of some files, others being in place, are those files'."""
    if all(is_permission_problem(e) for _, e in errors) and not in_place:
        return access_error(entry, " ".join(f"{label}: {err}" for label, err in errors))
    if len(errors) == 1:
        return errors[0][1]
    return DownloadError(f"every source of {entry.id} failed: {failure_summary(errors)}.",
                         "Check your connection and run the same command again (finished files are kept).")


__all__ = ["fetch", "FetchReport"]

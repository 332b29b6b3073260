"""`fetch ID --from DIR`: adopt files a person downloaded by hand, and record them like downloads."""
from __future__ import annotations

from .errors import HistodataError, IncompleteError
from .layout import DatasetPaths
from .record import FetchState, FileRecord, dataset_lock, now_iso, save_fetch
from .registry.loader import entry_to_dict
from .reports import FetchReport, FileOutcome
from .sources import manual
from .sources.resolve import matches, select

LABEL = "manual (--from)"


def adopt(entry, paths: DatasetPaths, from_dir, patterns: list[str], quiet: bool | None) -> FetchReport:
    """Find, check and hard-link the entry's files from `from_dir` into raw/, and record them."""
    specs = manual.expected_specs(entry)
    by_pattern = manual.expected_patterns(entry)
    selected = None
    if patterns:     # with expected patterns, --files may name only files found by them
        wanted = set(select([s.name for s in specs], patterns) if not by_pattern else
                     [s.name for s in specs if any(matches(s.name, p) for p in patterns)])
        selected = [s for s in specs if s.name in wanted]
    with dataset_lock(paths):
        ingest = manual.ingest(entry, from_dir, paths, files=selected, quiet=quiet, only=patterns or None)
        if patterns and not ingest.adopted and not ingest.mismatched and not ingest.missing:
            raise HistodataError(f"--files {' '.join(repr(p) for p in patterns)} matched none of the files "
                                 f"{entry.id} expects in {from_dir}.",
                                 "Patterns match the path in DIR or the base name; quote them in the shell.")
        return record_ingest(entry, paths, ingest, specs, whole=selected is None)


def record_ingest(entry, paths: DatasetPaths, ingest: manual.IngestReport, specs: list,
                  whole: bool) -> FetchReport:
    """Record what the ingest adopted, in the same form as downloads."""
    when = now_iso()
    index = next((i for i, s in enumerate(entry.sources) if s.kind == "manual"), -1)
    new_files = {adopted.name: FileRecord.build(adopted.size, {**adopted.verified, "sha256": adopted.sha256},
                                                list(adopted.verified), "registry", "manual", index, when)
                 for adopted in ingest.adopted}
    complete = whole and ingest.ok
    state = FetchState(time=when, expected=sorted(s.name for s in specs) or None, complete=complete,
                       sources=[LABEL])
    save_fetch(paths, new_files, state, entry_to_dict(entry))
    report = FetchReport(entry.id, str(paths.raw), complete=complete, sources_used=[LABEL],
                         ingest=ingest.to_dict())
    report.files = [FileOutcome.from_record(n, info, "adopted") for n, info in new_files.items()]
    return report


def incomplete_adoption(entry_id: str, ingest: dict, report: FetchReport) -> IncompleteError:
    """The error for an adoption that left files of the registry's list missing or wrong."""
    parts = []
    if ingest["missing"]:
        parts.append(f"{len(ingest['missing'])} missing ({manual.sample_names(ingest['missing'])})")
    if ingest["mismatched"]:
        wrong = [f"{m['name']}: {m['reason']}" for m in ingest["mismatched"]]
        parts.append(f"{len(wrong)} not matching the registry ({manual.sample_names(wrong)})")
    kept = f" The {len(report.files)} file(s) that matched are adopted and kept." if report.files else ""
    return IncompleteError(f"{entry_id} is not complete: of the files the registry lists, " + "; ".join(parts)
                           + "." + kept,
                           f"Download the missing or damaged files again and rerun "
                           f"`histodata fetch {entry_id} --from DIR`.", report=report)

"""`histodata fetch` and `histodata verify`: run the pipeline, then tell the person what happened."""
from __future__ import annotations

import sys

from ..console import emit_json, human_size, stdout_console
from ..errors import IncompleteError
from ..pipeline import fetch as fetch_dataset
from ..redact import redact
from ..removal import drop_raw
from ..reports import FetchReport, VerifyReport
from ..verification import verify as verify_dataset
from .local import dropped_line

PLAN_ROWS = 200     # a grouped dry run lists its files only up to this many (all in --json)


def fetch(args) -> int:
    """A dry-run table on stdout, else a summary on stderr; --json a report (also when incomplete)."""
    try:
        report = fetch_dataset(args.id, root=args.root, files=args.files, from_dir=args.from_dir,
                               dry_run=args.dry_run, workers=args.workers,
                               quiet=True if args.quiet or args.json else None,
                               source=args.source, standardize=not args.no_standardize, where=args.where,
                               client=args.cluster, shard=args.shard, connections=args.connections)
    except IncompleteError as err:
        if args.json and err.report is not None:
            emit_json(err.report.to_dict())
            err.json_reported = True
        raise
    dropped = drop_raw(report.dataset, args.root) if args.no_keep_raw and not report.dry_run else None
    if args.json:
        emit_json({**report.to_dict(), **({"raw_dropped": dropped.to_dict()} if dropped else {})})
        return 0
    if report.dry_run:
        print_plan(report)
    elif not report.already_complete:
        say(summary(report))
    if dropped is not None:
        say(dropped_line(dropped))
    return 0


def summary(report: FetchReport) -> str:
    adopted = sum(f.status == "adopted" for f in report.files)
    downloaded = sum(f.status == "downloaded" for f in report.files)
    arrived = (f"{adopted} file(s) adopted" if adopted else f"{downloaded} file(s) fetched")
    return (f"{report.dataset}: {arrived} ({human_size(report.fetched_bytes)}), "
            f"{len(report.files)} in place in {report.raw_dir}"
            + ((" and standardized (a part of the dataset: `load()` works on it)." if report.standardized_part
                else " and standardized.") if report.standardized else ".")
            + (f" Standardization {report.standardize_note}." if report.standardize_note else ""))


def print_plan(report: FetchReport) -> None:
    from rich.table import Table  # heavy: rich, imported on first use

    sources = ", ".join(report.sources_used)
    if report.groups:
        print_groups(report, sources)
        if len(report.files) > PLAN_ROWS:
            say(f"{len(report.files)} files: the list is left out here (`--json` has every file).")
            return
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
                        "already on disk" if present else "")
                     + ("; listed from the registry's pinned file list, without the network"
                        if report.listed_from == "registry" else "")
                     + ("; one row per series with its size as the index estimates it (the download lists and "
                        "checks every object)" if report.listed_from == "index" else ""))
    stdout_console().print(table)


def print_groups(report: FetchReport, sources: str) -> None:
    """Counts and bytes per group (a kind's `group_by`, e.g. project), largest first."""
    from rich.table import Table  # heavy: rich, imported on first use

    table = Table(title=f"{report.dataset}: {len(report.files)} file(s), {human_size(report.total_bytes)}, "
                        f"from {sources}, by {report.group_by}")
    for column in (report.group_by, "files", "size"):
        table.add_column(column, justify="left" if column == report.group_by else "right")
    for name, group in report.groups.items():
        table.add_row(name, f"{group['files']:,}", human_size(group["bytes"]))
    stdout_console().print(table)


def verify(args) -> int:
    """One line per problem, a summary; exit 1 when anything is missing or changed."""
    report = verify_dataset(args.id, root=args.root, files=args.files)
    if args.json:
        emit_json(report.to_dict())
        return 0 if report.ok else 1
    for f in report.files:
        if f.status not in ("ok", "dropped"):
            say(f"{f.status}: {f.name}" + (f" ({f.detail})" if f.detail else ""))
    say_verify_summary(report)
    return 0 if report.ok else 1


def layout_line(report: VerifyReport) -> str:
    """What verify found of the standardized copy, in one sentence."""
    layout = report.layout
    status = layout.get("status", "absent")
    if status == "absent":
        return " Not standardized."
    part = " (a partial dataset: only the part fetched)" if layout.get("partial") else ""
    if status == "ok":
        return f" Standardized copy{part}: {layout.get('files', 0)} file(s) in place."
    return (f" Standardized copy{part}: {status}, {layout.get('detail')}. Run `histodata fetch "
            f"{report.dataset}` or `histodata standardize {report.dataset}` to make it again.")


def say_verify_summary(report: VerifyReport) -> None:
    unverified = [f.name for f in report.files if f.unverified and f.status == "ok"]
    if unverified:
        say(f"{len(unverified)} file(s) are unverified: no published checksum, only checked against the "
            f"sha256 recorded when they were fetched (e.g. {unverified[0]}).")
    dropped = report.count("dropped")
    raw_ok = all(f.status in ("ok", "dropped") for f in report.files)
    say(f"{report.dataset}: {report.count('ok')} ok, {report.count('missing')} missing, "
        f"{report.count('changed')} changed"
        + (f", {dropped} dropped on purpose (rm --raw-only)" if dropped else "") + "."
        + ("" if raw_ok else f" Run `histodata fetch {report.dataset}` to repair.")
        + layout_line(report))


def say(message: str) -> None:
    print(redact(message), file=sys.stderr)

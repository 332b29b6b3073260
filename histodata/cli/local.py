"""`histodata list` / `status`, `standardize` and `rm`: the datasets in the data root."""
from __future__ import annotations

import sys

from ..console import emit_json, human_size, stdout_console
from ..constants import data_root
from ..errors import HistodataError
from ..layout import dataset_paths
from ..local import local_datasets
from ..record import DatasetRecord
from ..redact import redact
from ..registry.loader import canonical_id, load_registry
from ..removal import RawDropReport, drop_raw, remove_dataset
from ..standardize import refresh

COLUMNS = ("id", "state", "size", "samples", "standardizer")


def list_datasets(args) -> int:
    datasets = local_datasets(args.root)
    if args.json:
        emit_json(datasets)
        return 0
    from rich.table import Table  # heavy: rich, imported on first use

    table = Table(title=f"{len(datasets)} dataset(s) in {data_root(args.root)}")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column in ("size", "samples") else "left")
    for d in datasets:
        notes = [note for note, shown in (("partial", d.get("partial")), ("raw removed", d.get("raw_dropped")))
                 if shown]
        state = ", ".join([d["state"], *notes])
        table.add_row(d["id"], state, human_size(d["bytes"]), str(d["samples"] or ""), d["standardizer"] or "")
    stdout_console().print(table)
    return 0


def standardize(args) -> int:
    """Redo the standardized copy (what changed or is damaged; everything with --force)."""
    dataset_id = canonical_id(args.id)
    paths = dataset_paths(dataset_id, args.root)
    record = DatasetRecord.read(paths)
    if not record.files:
        raise HistodataError(f"no fetched files of {dataset_id} are recorded in {paths.base}.",
                             f"Run `histodata fetch {dataset_id}` first (or pass the --root it used).")
    entry = load_registry().entry(dataset_id)
    if entry.standardize is None:
        raise HistodataError(f"the registry entry of {dataset_id} says no standardizer.",
                             "Its raw files are what there is (in raw/).")
    report = refresh(entry, paths, quiet=True if args.quiet or args.json else None, force=args.force)
    if args.json:
        emit_json({"dataset": dataset_id, "changed": report is not None,
                   **(report.as_dict() if report else {})})
    elif report is None:
        say(f"{dataset_id}: the standardized copy is up to date and intact (--force redoes it).")
    else:
        say(f"{dataset_id}: standardized {report.samples} sample(s) with {report.standardizer} in "
            f"{report.seconds:.1f} s" + (" (a partial dataset: only the files on disk)" if report.partial else "")
            + ".")
    return 0


def remove(args) -> int:
    """`rm ID`: the dataset folder; `rm ID --raw-only`: the raw files the standardized copy does not need."""
    if args.raw_only:
        report = drop_raw(args.id, args.root)
        if args.json:
            emit_json(report.to_dict())
            return 0
        say(dropped_line(report))
        return 0
    freed = remove_dataset(args.id, args.root)
    if args.json:
        emit_json({"dataset": canonical_id(args.id), "removed": True, "freed_bytes": freed})
    else:
        say(f"{canonical_id(args.id)}: removed ({human_size(freed)} freed).")
    return 0


def dropped_line(report: RawDropReport) -> str:
    kept = f"; {len(report.kept)} kept: the standardized copy uses them in place" if report.kept else ""
    return (f"{report.dataset}: {len(report.dropped)} raw file(s) removed, {human_size(report.freed_bytes)} "
            f"freed{kept}.")


def say(message: str) -> None:
    print(redact(message), file=sys.stderr)

"""`histodata list` / `histodata status`: the datasets in the data root."""
from __future__ import annotations

from ..console import emit_json, human_size, stdout_console
from ..constants import data_root
from ..local import local_datasets

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
        table.add_row(d["id"], d["state"], human_size(d["bytes"]), str(d["samples"] or ""),
                      d["standardizer"] or "")
    stdout_console().print(table)
    return 0

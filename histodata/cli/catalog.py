"""`histodata search`, `info` and `cite`: the catalog, from the prebuilt registry index."""
from __future__ import annotations

import sys

from ..cards import citation_text, entry_size_text, print_card
from ..console import emit_json, stdout_console
from ..registry.loader import load_registry
from ..registry.search import search_entries
from .parser import SEARCH_FILTERS

TABLE_COLUMNS = ("id", "name", "organ", "stain", "task", "modality", "size", "access", "license")


def search(args) -> int:
    filters = {name: getattr(args, name) for name, _ in SEARCH_FILTERS}
    results = search_entries(load_registry().dicts(), args.text, **filters)
    if args.json:
        emit_json(results)
        return 0
    from rich.table import Table  # heavy: rich, imported on first use

    table = Table(title=f"{len(results)} dataset(s)", show_lines=False)
    for column in TABLE_COLUMNS:
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for e in results:
        table.add_row(e["id"], e["name"], ", ".join(e["organs"]), ", ".join(e["stains"]),
                      ", ".join(e["tasks"]), e["modality"], entry_size_text(e), e["access"], e["license"])
    stdout_console().print(table)
    return 0


def info(args) -> int:
    entry = load_registry().get_dict(args.id)
    if args.json:
        emit_json(entry)
    else:
        print_card(entry, stdout_console())
    return 0


def cite(args) -> int:
    sys.stdout.write(citation_text(load_registry().get_dict(args.id), args.format) + "\n")
    return 0

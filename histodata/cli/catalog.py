"""`histodata search`, `info` and `cite`: the catalog, from the prebuilt registry index."""
from __future__ import annotations

import sys

from ..cards import citation_text, entry_size_text, fetch_support, print_card
from ..console import emit_json, stdout_console
from ..registry.loader import load_registry
from ..registry.search import search_entries
from .parser import SEARCH_FILTERS

# The default table fits a terminal; --wide adds the rest.
COMPACT_COLUMNS = ("id", "name", "organ", "stain", "task", "access", "fetch")
WIDE_COLUMNS = ("id", "name", "organ", "stain", "task", "modality", "size", "access", "fetch", "license")


def search(args) -> int:
    filters = {name: getattr(args, name) for name, _ in SEARCH_FILTERS}
    text = " ".join(args.text or [])
    results = search_entries(load_registry().dicts(), text, **filters)
    if args.json:
        emit_json(results)
        return 0
    console = stdout_console()
    if not results:
        console.print(nothing_found(text, filters), highlight=False)
        return 0
    console.print(results_table(results, WIDE_COLUMNS if args.wide else COMPACT_COLUMNS, console.width))
    return 0


# The narrowest a column gets before the table stops fitting, and the widest it needs to be
# (ids are never cut: they are what a person types next).
MIN_WIDTHS = {"name": 12, "organ": 6, "stain": 5, "task": 8, "modality": 5, "size": 6, "access": 6,
              "fetch": 8, "license": 8}
NAME_SHARE = 32
MAX_WIDTHS = {"organ": 20, "stain": 12, "task": 24, "size": 16, "fetch": 22, "license": 16}


def column_widths(results: list[dict], columns: tuple[str, ...], width: int) -> dict[str, int]:
    """Widths that fit `width` (one space between columns): every column as wide as its longest
    cell up to a cap; when that is too wide, the widest columns give way down to their minimum so
    that the name keeps a readable share."""
    longest = {c: max([len(c)] + [len(cell(e, c)) for e in results]) for c in columns}
    widths = {c: min(longest[c], MAX_WIDTHS.get(c, longest[c])) for c in columns if c != "name"}
    gaps = len(columns) - 1
    name_share = min(longest.get("name", 0), NAME_SHARE) if "name" in columns else 0
    excess = sum(widths.values()) + gaps + name_share - width
    while excess > 0:
        spare = {c: w - MIN_WIDTHS.get(c, w) for c, w in widths.items() if w > MIN_WIDTHS.get(c, w)}
        if not spare:
            break
        column = max(spare, key=spare.get)
        widths[column] -= 1
        excess -= 1
    if "name" in columns:
        widths["name"] = max(MIN_WIDTHS["name"], min(longest["name"], width - gaps - sum(widths.values())))
    return {c: widths[c] for c in columns}


# What a narrow terminal leaves out first, when even the narrowest columns do not fit.
DROP_ORDER = ("license", "size", "modality", "stain", "access", "organ", "task", "fetch")


def fitting_widths(results: list[dict], columns: tuple[str, ...], width: int) -> dict[str, int]:
    """column_widths for the columns that fit `width`, leaving out those of DROP_ORDER first."""
    kept = list(columns)
    widths = column_widths(results, tuple(kept), width)
    for column in DROP_ORDER:
        if sum(widths.values()) + len(widths) - 1 <= width:
            break
        if column in kept:
            kept.remove(column)
            widths = column_widths(results, tuple(kept), width)
    return widths


def results_table(results: list[dict], columns: tuple[str, ...], width: int):
    """The search results, one row per entry; long cells are cut with an ellipsis, never wrapped."""
    from rich import box  # heavy: rich, imported on first use
    from rich.table import Table

    widths = fitting_widths(results, columns, width)
    columns = tuple(widths)
    table = Table(title=f"{len(results)} dataset(s)", box=box.SIMPLE_HEAD, show_edge=False, padding=0)
    for column in columns:
        table.add_column(column, no_wrap=True, overflow="ellipsis", width=widths[column])
    for entry in results:
        table.add_row(*(cell(entry, column) for column in columns))
    return table


def cell(entry: dict, column: str) -> str:
    values = {"id": entry["id"], "name": ("(local) " if local(entry["id"]) else "") + entry["name"], "organ": ", ".join(entry["organs"]),
              "stain": ", ".join(entry["stains"]), "task": ", ".join(entry["tasks"]),
              "modality": entry["modality"], "size": entry_size_text(entry), "access": entry["access"],
              "fetch": fetch_support(entry).replace("automatic", "auto"), "license": entry["license"]}
    return values[column]


def local(dataset_id: str) -> bool:
    """True for an entry of a $HISTODATA_REGISTRY folder (marked in the table)."""
    return load_registry().origin(dataset_id) is not None


def nothing_found(text: str, filters: dict) -> str:
    """What to try when a search finds nothing."""
    used = [f"--{name} {value}" for name, value in filters.items() if value]
    tips = ["fewer words" if len(text.split()) > 1 else "",
            f"without {' '.join(used)}" if used else "",
            "`histodata search` alone lists the whole catalog"]
    return f"No dataset matches {' '.join(filter(None, [repr(text) if text else '', *used]))}. Try " + \
        "; ".join(t for t in tips if t) + "."


def info(args) -> int:
    registry = load_registry()
    entry = registry.get_dict(args.id)
    if args.json:
        emit_json(entry)
    else:
        print_card(entry, stdout_console(), registry.origin(entry["id"]), registry.replaces_builtin(entry["id"]))
    return 0


def cite(args) -> int:
    sys.stdout.write(citation_text(load_registry().get_dict(args.id), args.format) + "\n")
    return 0

"""The catalog half of the Python API: search, info, cite."""
from __future__ import annotations

from .cards import citation_text, fetch_support
from .registry.loader import load_registry
from .registry.models import Entry
from .registry.search import search_entries, total_bytes

COLUMNS = ["id", "name", "organs", "stains", "tasks", "modality", "year", "size_bytes", "access", "fetch",
           "license", "homepage", "doi", "catalog_row", "source_kinds"]


def search(text: str | None = None, organ: str | None = None, stain: str | None = None,
           task: str | None = None, access: str | None = None, modality: str | None = None,
           with_entries: bool = False):
    """Search the catalog; returns a pandas DataFrame, one row per entry, best matches first.

    `organs`, `stains` and `tasks` are lists; `fetch` says how the data is fetched (`automatic
    (zenodo)`, `by hand (--from)`, ...). With `with_entries`, the column `entry` holds each full
    entry dict (else `info(id)` gives one).
    """
    import pandas as pd  # heavy: imported on first use

    results = search_entries(load_registry().dicts(), text, organ=organ, stain=stain, task=task,
                             access=access, modality=modality)
    rows = []
    for entry in results:
        rows.append({
            **{c: entry.get(c) for c in COLUMNS if c in entry or c in ("year", "homepage", "doi", "catalog_row")},
            "size_bytes": total_bytes(entry),
            "fetch": fetch_support(entry),
            "source_kinds": [s["kind"] for s in entry.get("sources", [])],
            **({"entry": entry} if with_entries else {}),
        })
    return pd.DataFrame(rows, columns=COLUMNS + (["entry"] if with_entries else []))


def info(dataset_id: str) -> Entry:
    """The validated registry entry of `dataset_id` (an id in any case, or a unique alias; a pydantic
    model; `.model_dump()` for a dict)."""
    return load_registry().entry(dataset_id)


def cite(dataset_id: str, format: str = "bibtex") -> str:  # noqa: A002 - mirrors the CLI option
    """The citation of `dataset_id` as BibTeX or plain text."""
    return citation_text(load_registry().get_dict(dataset_id), format)

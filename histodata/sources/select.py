"""`fetch --where FIELD=VALUE`: keep only the files whose per-file metadata matches.

    conditions = parse_where(["project=TCGA-BRCA", "experimental_strategy=Diagnostic Slide"])
    check_fields(entry, conditions, sources)        # an unknown field: an error naming the offered ones
    kept = apply_where(remotes, conditions, label)  # nothing kept: an error with values that exist

Repeated conditions must all hold (AND); `A,B` accepts either value (OR). Values compare without
regard to case; `*` and `?` are wildcards (`case=TCGA-A2-*`). A file whose field holds several
values (`a;b`) matches when one of them does. The fields are the `file_fields` of the source's
kind (`histodata.registry.kinds`), carried by each `RemoteFile.metadata`.
"""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping

from ..errors import DownloadError, HistodataError
from ..registry.kinds import KINDS
from .base import RemoteFile
from .resolve import select

Condition = tuple[str, tuple[str, ...]]     # (field, accepted values)
SHOWN_VALUES = 8


def parse_where(where: Iterable[str] | Mapping[str, object] | None) -> list[Condition]:
    """`["FIELD=VALUE", ...]` (the CLI) or `{FIELD: VALUE or [VALUES]}` (the API) as conditions."""
    if not where:
        return []
    if isinstance(where, Mapping):
        pairs = [(str(k), v) for k, v in where.items()]
    elif isinstance(where, str):
        pairs = [split_condition(where)]
    else:
        pairs = [split_condition(text) for text in where]
    conditions = []
    for field, value in pairs:
        values = value if isinstance(value, (list, tuple, set, frozenset)) else str(value).split(",")
        values = tuple(v for v in (str(v).strip() for v in values) if v)
        if not field.strip() or not values:
            raise HistodataError(f"--where {field}={value}: a field and at least one value are needed.",
                                 "Write FIELD=VALUE, e.g. --where project=TCGA-BRCA (A,B for either).")
        conditions.append((field.strip(), values))
    return conditions


def split_condition(text: str) -> tuple[str, str]:
    field, equals, value = str(text).partition("=")
    if not equals:
        raise HistodataError(f"--where {text!r} is not FIELD=VALUE.",
                             "Write e.g. --where project=TCGA-BRCA (repeat it for AND; A,B for either).")
    return field, value


def offered_fields(sources) -> dict[str, str]:
    """The per-file fields the sources' kinds list (name -> what it means), in table order."""
    fields: dict[str, str] = {}
    for source in sources:
        for spec in KINDS[source.kind].file_fields:
            fields.setdefault(spec.name, spec.description)
    return fields


def check_fields(entry, conditions: list[Condition], sources) -> None:
    """Every condition's field must be one the entry's sources offer."""
    if not conditions:
        return
    offered = offered_fields(sources)
    unknown = [field for field, _ in conditions if field not in offered]
    if not unknown:
        return
    if not offered:
        kinds = ", ".join(dict.fromkeys(s.kind for s in sources)) or "none"
        raise HistodataError(f"--where {unknown[0]}: {entry.id} has no per-file metadata to select on "
                             f"(its sources: {kinds}).", "Select files by name with --files GLOB instead.")
    listing = ", ".join(f"{name} ({what})" for name, what in offered.items())
    raise HistodataError(f"--where {', '.join(unknown)}: {entry.id} offers no such field. "
                         f"Its fields: {listing}.",
                         f"See `histodata info {entry.id}`.")


def value_matches(value: str, wanted: tuple[str, ...]) -> bool:
    parts = [p.strip().casefold() for p in value.split(";")] if value else []
    return any(fnmatch.fnmatchcase(part, w.casefold()) if ("*" in w or "?" in w)
               else part == w.casefold() for part in parts for w in wanted)


def apply_where(remotes: list[RemoteFile], conditions: list[Condition], label: str,
                kind: str) -> list[RemoteFile]:
    """The files meeting every condition. A field the source's kind does not list is a DownloadError
    (the next source may have it); no file left is an error that shows values that exist."""
    if not conditions or not remotes:
        return remotes
    listed = {spec.name for spec in KINDS[kind].file_fields}
    lacking = [field for field, _ in conditions if field not in listed]
    if lacking:
        raise DownloadError(f"{label} lists no per-file field {lacking[0]!r} to select on.",
                            "Use another source (--source N) or this one's fields (histodata info ID).")
    kept = remotes
    for field, wanted in conditions:
        matching = [r for r in kept if value_matches(r.metadata.get(field, ""), wanted)]
        if not matching:
            raise no_match(kept, field, wanted, label, len(kept) < len(remotes))
        kept = matching
    return kept


def no_match(candidates: list[RemoteFile], field: str, wanted: tuple[str, ...], label: str,
             narrowed: bool) -> HistodataError:
    values = sorted({part for r in candidates for part in r.metadata.get(field, "").split(";") if part})
    more = f", ... ({len(values)} in all)" if len(values) > SHOWN_VALUES else ""
    shown = ", ".join(values[:SHOWN_VALUES]) + more
    among = "the files the other conditions kept" if narrowed else f"the {len(candidates)} file(s) of {label}"
    return HistodataError(f"--where {field}={','.join(wanted)} matches none of {among}"
                          + (f"; its values there: {shown}." if shown else f"; none of them has a {field}."),
                          "Check the spelling (values ignore case; * and ? are wildcards), or run "
                          "`--dry-run` without this condition to see what there is.")


def selected(remotes: list[RemoteFile], patterns: list[str], conditions: list[Condition], label: str,
             kind: str) -> list[RemoteFile]:
    """What one fetch takes of a source's files: the `--where` conditions, then the `--files` globs."""
    kept = apply_where(remotes, conditions, label, kind)
    names = set(select([r.name for r in kept], patterns))
    return [r for r in kept if r.name in names]

"""Human views of an entry: the `info` card and citations."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from .console import human_size
from .registry.kinds import KINDS
from .registry.search import source_files, total_bytes
from .registry.vocab import license_restrictions

ACCESS_TEXT = {
    "open": "open: anonymous download",
    "registration": "registration: a free account or accepting terms is needed",
    "request": "request: an application to the data owners is needed",
    "unavailable": "unavailable: not distributed now",
}


def source_locator(source: dict) -> str:
    """A short 'where' for a source: its locating fields, or the host of its first URL."""
    row = KINDS.get(source.get("kind"))
    if row is not None and not row.automatic:
        wanted = [f.get("name", "") for f in source.get("files") or []] + list(source.get("patterns") or [])
        shown = ", ".join(wanted[:4]) + (", ..." if len(wanted) > 4 else "")
        return "by hand (fetch --from DIR)" + (f": {shown}" if shown else "")
    parts = [f"{k}={source[k]}" for k in (row.locators if row else ()) if source.get(k)]
    if not parts and source.get("files"):
        url = source["files"][0].get("url", "")
        parts = [(urlsplit(url).hostname or "") if "://" in url else url]   # the host, never user:password@
    return " ".join(parts)


def _listed_at_fetch(source: dict) -> bool:
    """Whether the source's files come from a listing on the server (an FTP folder, an HTTP index)."""
    row = KINDS.get(source.get("kind"))
    return bool(row and row.listing and source.get(row.listing))


def fetch_support(entry: dict) -> str:
    """How `fetch` gets the data: 'automatic (zenodo)' when a source needs no person (credentials
    may be needed), else 'by hand (--from)', 'not distributed' or 'none'."""
    kinds = [s["kind"] for s in entry.get("sources", [])]
    auto = [k for k in kinds if k in KINDS and KINDS[k].automatic]
    if auto:
        return f"automatic ({', '.join(dict.fromkeys(auto))})"
    if entry["access"] == "unavailable":
        return "not distributed"
    return "by hand (--from)" if kinds or entry["access"] != "open" else "none"


def _automatic(source: dict) -> bool:
    row = KINDS.get(source.get("kind"))
    return row is None or row.automatic


def entry_size_text(entry: dict) -> str:
    """Total bytes when known, else the size as published."""
    total = total_bytes(entry)
    return human_size(total) if total else ((entry.get("size") or {}).get("text") or "")


def size_line(entry: dict) -> str:
    """Bytes (published or summed from files), counts, and the size as published, without repeats."""
    size = entry.get("size") or {}
    total = total_bytes(entry)
    parts = [human_size(total) if total else ""]
    parts += [f"{size[k]:,} {k}" for k in ("slides", "images", "patients") if size.get(k)]
    parts.append(size.get("text") or "")
    return "; ".join(dict.fromkeys(p for p in parts if p))


def selectable_fields(entry: dict) -> dict[str, tuple[str, list[str]]]:
    """The per-file fields `fetch --where` selects on: name -> (what it means, the kinds listing it)."""
    fields: dict[str, tuple[str, list[str]]] = {}
    for source in entry.get("sources") or []:
        row = KINDS.get(source.get("kind"))
        for spec in row.file_fields if row else ():
            what, kinds = fields.setdefault(spec.name, (spec.description, []))
            if row.name not in kinds:
                kinds.append(row.name)
    return fields


def print_card(entry: dict, console, origin: str | None = None, replaces_builtin: bool = False) -> None:
    """A readable card of one entry; `origin`: the local registry folder it comes from."""
    from rich.panel import Panel  # heavy: rich, imported on first use
    from rich.table import Table

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows = [
        ("id", entry["id"]),
        ("organs", ", ".join(entry["organs"])),
        ("stains", ", ".join(entry["stains"])),
        ("tasks", ", ".join(entry["tasks"])),
        ("modality", entry["modality"]),
        ("year", str(entry.get("year", ""))),
        ("size", size_line(entry)),
        ("magnification", entry.get("magnification", "")),
        ("license", entry["license"]),
        ("access", ACCESS_TEXT.get(entry["access"], entry["access"])),
        ("homepage", entry.get("homepage", "")),
        ("paper", entry.get("paper", "")),
        ("doi", entry.get("doi", "")),
        ("catalog row", entry.get("catalog_row", "")),
    ]
    for key, value in rows:
        if value:
            facts.add_row(key, str(value))
    console.print(Panel(facts, title=f"[bold]{entry['name']}[/bold]", expand=False))
    if origin:
        console.print(f"[bold yellow]Local entry[/bold yellow] from {origin}"
                      + (" (it replaces the built-in entry of this id)." if replaces_builtin else "."),
                      highlight=False)
    if entry.get("summary"):
        console.print(entry["summary"], highlight=False)
    for warning in license_restrictions(entry["license"]):
        console.print(f"[bold yellow]License warning:[/bold yellow] {entry['license']}: {warning}.")
    if entry["access"] != "open":
        console.print(f"\n[bold]Access ({entry['access']}).[/bold] What you must do by hand:")
        console.print(entry.get("instructions", ""), highlight=False)
    if entry.get("sources"):
        console.print("\n[bold]Sources[/bold] (in order of preference):")
        for n, source in enumerate(entry["sources"], 1):
            files = source_files(source)
            total = sum(f.get("size") or 0 for f in files)
            extra = f", {len(files)} file(s)" + (f", {entry_size_text({'size': {'bytes': total}})}" if total else "")
            listed = _listed_at_fetch(source)
            if listed:
                own = sum(1 for f in files if f.get("url"))
                extra = ", listed at fetch time" + (f" (+{own} file(s) of their own URL)" if own else "")
            console.print(f"  {n}. {source['kind']}: {source_locator(source)}"
                          f"{extra if (files or listed) and _automatic(source) else ''}",
                          highlight=False)
    fields = selectable_fields(entry)
    if fields:
        console.print("\n[bold]Select files[/bold] with fetch --where FIELD=VALUE "
                      "(repeatable; A,B = either):")
        for name, (what, kinds) in fields.items():
            console.print(f"  {name}: {what} ({', '.join(kinds)})", highlight=False)
    if entry.get("notes"):
        console.print("\n[bold]Notes[/bold]")
        for note in entry["notes"]:
            console.print(f"  - {note}", highlight=False, style="dim")
    if entry.get("citation"):
        console.print(f"\n[bold]Cite:[/bold] histodata cite {entry['id']}")
    how = f"histodata fetch {entry['id']}"
    if not fetch_support(entry).startswith("automatic"):
        how += " --from DIR   (DIR: the files you downloaded by hand)"
    console.print(f"[bold]Fetch:[/bold] {how}", highlight=False)


_FIELD = re.compile(r"(\w+)\s*=\s*")


def bibtex_fields(bibtex: str) -> dict[str, str]:
    """Fields of the first BibTeX record (braced or quoted values, nested braces allowed)."""
    fields: dict[str, str] = {}
    bibtex = re.split(r"\n\s*@", bibtex.strip(), maxsplit=1)[0]     # only the first record
    body = bibtex[bibtex.find(",") + 1:] if "{" in bibtex else bibtex
    pos = 0
    while True:
        match = _FIELD.search(body, pos)
        if not match:
            break
        start = match.end()
        value, pos = _read_value(body, start)
        fields[match.group(1).lower()] = re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()
    return fields


def _read_value(text: str, start: int) -> tuple[str, int]:
    if start >= len(text):
        return "", start
    opener = text[start]
    if opener == "{":
        depth = 0
        for i in range(start, len(text)):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            if depth == 0:
                return text[start + 1:i], i + 1
        return text[start + 1:], len(text)
    if opener == '"':
        end = text.find('"', start + 1)
        end = len(text) if end == -1 else end
        return text[start + 1:end], end + 1
    end = start
    while end < len(text) and text[end] not in ",}\n":
        end += 1
    return text[start:end], end


_LATEX = {r"\&": "&", r"\%": "%", r"\_": "_", r"\$": "$", r"\#": "#", "--": "–", "~": " "}
_ACCENTS = {'"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "c": "\u0327"}
_ACCENTED = re.compile(r"\\([\"'`^~c])\s*\{?([A-Za-z])\}?")


def plain_text(latex: str) -> str:
    r"""BibTeX's escapes as the characters they stand for (`H\&E` -> `H&E`, `{\"o}` -> `ö`)."""
    text = _ACCENTED.sub(lambda m: unicodedata.normalize("NFC", m.group(2) + _ACCENTS[m.group(1)]), latex)
    for escaped, char in _LATEX.items():
        text = text.replace(escaped, char)
    return text.replace("{", "").replace("}", "")


def citation_text(entry: dict, fmt: str = "bibtex") -> str:
    """The entry's citation as BibTeX (as registered) or as one line of plain text."""
    bibtex = (entry.get("citation") or "").strip()
    if fmt == "bibtex":
        if bibtex:
            return bibtex
        return _fallback_bibtex(entry)
    fields = bibtex_fields(bibtex) if bibtex else {}
    authors = fields.get("author", "")
    if authors:
        names = [" ".join(reversed([part.strip() for part in a.split(",", 1)])) for a in authors.split(" and ")]
        more = len(names) > 3 or names[-1].lower() == "others"      # BibTeX's `and others` is et al.
        names = [n for n in names if n.lower() != "others"]
        authors = ", ".join(names[:3]) + (" et al." if more else "")
    parts = [authors, fields.get("title") or entry["name"],
             fields.get("journal") or fields.get("booktitle") or fields.get("publisher") or "",
             str(fields.get("year") or entry.get("year") or "")]
    text = plain_text(". ".join(p.rstrip(".") for p in parts if p) + ".")
    doi = fields.get("doi") or entry.get("doi")
    return f"{text} https://doi.org/{doi}" if doi else text


def _fallback_bibtex(entry: dict) -> str:
    """A @misc record built only from registry facts, for entries without a published BibTeX."""
    lines = [f"@misc{{{entry['id'].replace('-', '_')},", f"  title = {{{entry['name']}}},"]
    if entry.get("year"):
        lines.append(f"  year = {{{entry['year']}}},")
    if entry.get("doi"):
        lines.append(f"  doi = {{{entry['doi']}}},")
    url = entry.get("homepage") or entry.get("paper")
    if url:
        lines.append(f"  howpublished = {{\\url{{{url}}}}},")
    lines.append("  note = {Registry entry of histodata; no published BibTeX recorded}")
    return "\n".join(lines) + "\n}"

"""Docs pages generated from the registry and the CLI at build time (used by mkdocs_hooks.py).

Nothing here is committed as a page: the catalog, one page per dataset, the catalog notes and the CLI
reference are rebuilt from the registry and the argument parser on every `mkdocs build`.
"""
from __future__ import annotations

import argparse
import html
import json

from .cards import ACCESS_TEXT, fetch_support, size_line, source_locator
from .console import human_size
from .constants import CHECKSUM_ALGORITHMS
from .croissant import entry_croissant
from .redact import redact
from .registry.search import total_bytes
from .registry.vocab import license_restrictions
from .standardize.catalog import CATALOG as STANDARDIZERS

CROISSANT_FILE = "croissant.json"    # beside each dataset page

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\[]*_<>`|"})


def _md_text(text) -> str:
    """Registry text shown literally in Markdown (brackets such as `[27a] [27b]` are not links)."""
    return str(text).translate(_MD_SPECIAL)


def _md_escape(text: str) -> str:
    """A table cell: literal text on one line."""
    return _md_text(text).replace("\n", " ")


# ----------------------------------------------------------------------------- catalog page
def catalog_page(entries: list[dict]) -> str:
    rows = "\n".join(_catalog_row(e) for e in entries)
    facets = {key: sorted({v for e in entries for v in _as_list(e.get(field))})
              for key, field in (("organ", "organs"), ("stain", "stains"), ("task", "tasks"),
                                 ("modality", "modality"), ("access", "access"))}
    selects = "\n".join(
        f'<label>{key} <select data-facet="{key}"><option value="">any</option>'
        + "".join(f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
        + "</select></label>"
        for key, values in facets.items())
    return f"""---
hide: [navigation, toc]
---

# Dataset catalog

{len(entries)} datasets. Type to filter (name, organ, stain, task, license, ...), choose facets, and
click a column header to sort. Each name opens the dataset's page with its sources, checksums, license,
access steps, fetch command and citation.

<div class="hd-catalog-controls">
<input type="search" id="hd-filter" placeholder="Filter datasets, e.g. breast ihc" aria-label="Filter datasets" autocomplete="off">
{selects}
<span id="hd-count" aria-live="polite">{len(entries)} of {len(entries)}</span>
</div>

<table id="hd-catalog" class="hd-catalog">
<thead><tr>
<th data-sort="text">Name</th><th data-sort="text">Organs</th><th data-sort="text">Stains</th>
<th data-sort="text">Tasks</th><th data-sort="text">Modality</th><th data-sort="num">Size</th>
<th data-sort="num">Year</th><th data-sort="text">License</th><th data-sort="text">Access</th>
<th data-sort="text">Fetch</th>
</tr></thead>
<tbody>
{rows}
</tbody>
</table>
"""


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _size_cell(entry: dict, total: int) -> str:
    """Bytes when known, else the published size, shortened (the whole text is the tooltip)."""
    full = size_line(entry)
    short = human_size(total) if total else full
    if len(short) > 28:
        short = short[:26].rstrip(" ,;(") + "…"
    return f'<span data-value="{total}" title="{html.escape(full)}">{html.escape(short)}</span>'


def _catalog_row(entry: dict) -> str:
    total = total_bytes(entry) or 0
    search_text = " ".join([entry["id"], entry["name"], *entry.get("aliases", []), *entry["organs"],
                            *entry["stains"], *entry["tasks"], entry["modality"], entry["license"],
                            entry["access"], entry.get("catalog_row", "")]).lower()
    data = {"organ": "|".join(entry["organs"]), "stain": "|".join(entry["stains"]),
            "task": "|".join(entry["tasks"]), "modality": entry["modality"], "access": entry["access"]}
    attributes = " ".join(f'data-{k}="{html.escape(v)}"' for k, v in data.items())
    cells = [
        f'<a href="../datasets/{entry["id"]}/index.html">{html.escape(entry["name"])}</a>',
        ", ".join(entry["organs"]), ", ".join(entry["stains"]), ", ".join(entry["tasks"]),
        entry["modality"],
        _size_cell(entry, total),
        str(entry.get("year", "")), html.escape(entry["license"]), entry["access"],
        html.escape(fetch_support(entry)),
    ]
    tds = "".join(f"<td>{c}</td>" for c in cells)
    return f'<tr data-search="{html.escape(search_text)}" {attributes}>{tds}</tr>'


# ----------------------------------------------------------------------------- dataset pages
def dataset_page(entry: dict) -> str:
    parts = [f"# {entry['name']}\n"]
    if entry.get("summary"):
        parts.append(_md_text(entry["summary"]) + "\n")
    parts.append(_facts_table(entry))
    for warning in license_restrictions(entry["license"]):
        parts.append(f'!!! warning "License: {entry["license"]}"\n    {warning.capitalize()}: check the license '
                     f"before you use this data{' commercially' if 'commercial' in warning else ''}.\n")
    parts.append(_access_section(entry))
    parts.append(_sources_section(entry))
    parts.append(_fetch_section(entry))
    if entry.get("notes"):
        parts.append("## Notes\n\n" + "\n".join(f"- {_md_text(n)}" for n in entry["notes"]) + "\n")
    if entry.get("citation"):
        parts.append(f"## Citation\n\n```bibtex\n{entry['citation'].strip()}\n```\n")
    parts.append(_metadata_section(entry))
    if entry.get("provenance"):
        parts.append("## Provenance\n\n| fact | source |\n|---|---|\n" + "\n".join(
            f"| {_md_escape(p['what'])} | {_md_escape(p['source'])} |" for p in entry["provenance"]) + "\n")
    return "\n".join(parts)


def _facts_table(entry: dict) -> str:
    def text(value):
        return None if value in (None, "", []) else _md_escape(value)

    def link(url):
        return f"<{url}>" if url else None

    rows = [
        ("id", f"`{entry['id']}`"), ("organs", ", ".join(entry["organs"])), ("stains", text(", ".join(entry["stains"]))),
        ("tasks", ", ".join(entry["tasks"])), ("modality", entry["modality"]), ("year", entry.get("year")),
        ("size", text(size_line(entry))), ("magnification", text(entry.get("magnification"))),
        ("mpp", entry.get("mpp")), ("scanner", text(entry.get("scanner"))), ("content", text(entry.get("content"))),
        ("license", _md_escape(entry["license"]) + (f" ([terms]({entry['license_url']}))" if entry.get("license_url") else "")),
        ("access", ACCESS_TEXT.get(entry["access"], entry["access"])),
        ("homepage", link(entry.get("homepage"))), ("paper", link(entry.get("paper"))),
        ("DOI", f"[{entry['doi']}](https://doi.org/{entry['doi']})" if entry.get("doi") else None),
        ("catalog row", text(entry.get("catalog_row"))),
    ]
    lines = ["| fact | value |", "|---|---|"]
    lines += [f"| **{k}** | {v} |" for k, v in rows if v not in (None, "", [])]
    return "\n".join(lines) + "\n"


def _access_section(entry: dict) -> str:
    if entry["access"] == "open":
        return "## Access\n\nOpen: anonymous download.\n"
    steps = entry.get("instructions", "").strip()
    return (f"## Access\n\n!!! note \"{entry['access'].capitalize()}: manual steps\"\n"
            + "\n".join(f"    {_md_text(line)}" for line in steps.splitlines()) + "\n\n"
            f"Then adopt the files you downloaded: `histodata fetch {entry['id']} --from DIR`.\n")


def _sources_section(entry: dict) -> str:
    if not entry.get("sources"):
        return "## Sources\n\nNo download source is recorded.\n"
    out = ["## Sources\n", "In order of preference; `fetch` falls back to the next one when a source fails.\n"]
    for n, source in enumerate(entry["sources"], 1):
        out.append(f"### {n}. {source['kind']}\n")
        locator = source_locator(source)
        if locator:
            out.append(f"`{locator}`\n")
        if source.get("notes"):
            out.append(_md_text(source["notes"]) + "\n")
        files = source.get("files") or []
        if files:
            out.append("| file | size | checksums |\n|---|---|---|")
            for f in files:
                sums = "<br>".join(f"{a}: `{f[a]}`" for a in CHECKSUM_ALGORITHMS if f.get(a))
                name = f"[{f['name']}]({f['url']})" if f.get("url") else f["name"]
                out.append(f"| {_md_escape(name)} | {human_size(f.get('size')) if f.get('size') is not None else ''} "
                           f"| {sums} |")
            out.append("")
        else:
            out.append("Files are listed from the service at fetch time.\n")
    return "\n".join(out)


def _fetch_section(entry: dict) -> str:
    command = f"histodata fetch {entry['id']}"
    if entry["access"] != "open":
        command += " --from DIR"
    text = (f"## Fetch\n\n```bash\nhistodata fetch {entry['id']} --dry-run   # files and sizes\n{command}\n```\n\n"
            f"```python\nimport histodata\nds = histodata.load(\"{entry['id']}\")\nds.manifest.head()\n```\n")
    std = entry.get("standardize") or {}
    name = std.get("with")
    if name:
        summary = STANDARDIZERS[name].summary if name in STANDARDIZERS else "see the layout guide"
        text += (f"\n**Standardized layout** (`{name}`): {summary}. "
                 "See [the local layout](../../layout.md).\n")
    return text


def croissant_text(entry: dict) -> str:
    """The entry's Croissant 1.0 JSON-LD, the file served beside its page."""
    return entry_croissant(entry).text() + "\n"


def _metadata_section(entry: dict) -> str:
    """A link to the Croissant file, and the same JSON-LD embedded for dataset search engines."""
    embedded = redact(json.dumps(entry_croissant(entry).jsonld, ensure_ascii=False))
    embedded = embedded.replace("</", "<\\/").replace("<!--", "<\\u0021--")   # never ends the script early
    return (f"## Metadata\n\n[Croissant 1.0 metadata]({CROISSANT_FILE}) (MLCommons JSON-LD: license, citation, "
            f"files and checksums; `histodata croissant {entry['id']}` prints it, with the local manifest as a "
            "record set once the dataset is fetched).\n\n"
            f'<script type="application/ld+json">\n{embedded}\n</script>\n')


# ----------------------------------------------------------------------------- other generated pages
def catalog_notes_page(entries: list[dict]) -> str:
    out = ["# Catalog notes\n",
           "Where public sources disagree about a dataset (sizes, checksums, counts, URLs, licenses), the "
           "entry records the conflict and how it resolves it. This page collects those notes; it is "
           "generated from the registry.\n"]
    for entry in entries:
        if entry.get("notes"):
            out.append(f"## [{entry['name']}](datasets/{entry['id']}/index.md)\n")
            out += [f"- {_md_text(n)}" for n in entry["notes"]]
            out.append("")
    return "\n".join(out)


def standardizers_page() -> str:
    """Every standardizer with its summary and options, from the standardizers' own descriptions."""
    out = ["# Standardizers\n",
           "An entry chooses one with `standardize: {with: NAME, options: {...}}`; `histodata registry validate` "
           "rejects an unknown name or option. This page is generated from the standardizers themselves "
           "(`histodata/standardize/`); [the local layout](layout.md) describes what each one writes.\n"]
    for standardizer in STANDARDIZERS.values():
        out.append(f"## `{standardizer.name}`\n\n{standardizer.summary[:1].upper()}{standardizer.summary[1:]}.\n")
        out.append("| option | default | meaning |\n|---|---|---|")
        for key, option in standardizer.options.items():
            default = option.default_text or f"`{option.shown_default()}`"
            meaning = option.description.replace("|", "\\|")
            out.append(f"| `{key}` | {default} | {meaning} |")
        out.append("")
    return "\n".join(out)


def cli_page(parser: argparse.ArgumentParser) -> str:
    """The CLI reference, from the command's own argument parser (`histodata.cli.build_parser()`)."""
    out = ["# Command line\n", "Generated from `histodata --help` and each command's `--help`.\n",
           "```text\n" + parser.format_help() + "```\n"]

    def walk(p: argparse.ArgumentParser, prefix: str) -> None:
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    if name == "status":  # an alias of `list`
                        continue
                    out.append(f"## {prefix} {name}\n\n```text\n{sub.format_help()}```\n")
                    walk(sub, f"{prefix} {name}")

    walk(parser, "histodata")
    return "\n".join(out)


def catalog_json(entries: list[dict]) -> str:
    """The whole catalog as JSON, served beside the docs for scripts."""
    return json.dumps(entries, indent=1, ensure_ascii=False)

"""The `histodata` command. Heavy modules are imported inside the handlers that need them."""
from __future__ import annotations

import argparse
import json
import logging
import sys

from . import __version__
from .errors import HistodataError

log = logging.getLogger("histodata")


# ----------------------------------------------------------------------------- output helpers
def emit_json(document) -> None:
    """One JSON document on standard output, nothing else there."""
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


def stdout_console():
    from rich.console import Console

    # When piped, do not squeeze tables into 80 columns.
    return Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def human_size(num: int | None) -> str:
    if num is None:
        return ""
    size = float(num)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{num} B"


def entry_size_text(entry: dict) -> str:
    """Total bytes when known, else the size as published."""
    from .registry.search import total_bytes

    total = total_bytes(entry)
    return human_size(total) if total else ((entry.get("size") or {}).get("text") or "")


# ----------------------------------------------------------------------------- catalog commands
def cmd_search(args) -> int:
    from .registry.loader import load_registry
    from .registry.search import search_entries

    filters = {k: getattr(args, k) for k in ("organ", "stain", "task", "access", "modality")}
    results = search_entries(load_registry().dicts(), args.text, **filters)
    if args.json:
        emit_json(results)
        return 0
    from rich.table import Table

    table = Table(title=f"{len(results)} dataset(s)", show_lines=False)
    for column in ("id", "name", "organ", "stain", "task", "modality", "size", "access", "license"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for e in results:
        table.add_row(e["id"], e["name"], ", ".join(e["organs"]), ", ".join(e["stains"]),
                      ", ".join(e["tasks"]), e["modality"], entry_size_text(e), e["access"], e["license"])
    stdout_console().print(table)
    return 0


def cmd_info(args) -> int:
    from .registry.loader import load_registry

    entry = load_registry().get_dict(args.id)
    if args.json:
        emit_json(entry)
        return 0
    from .cards import print_card

    print_card(entry, stdout_console())
    return 0


def cmd_cite(args) -> int:
    from .cards import citation_text
    from .registry.loader import load_registry

    sys.stdout.write(citation_text(load_registry().get_dict(args.id), args.format) + "\n")
    return 0


def cmd_registry_validate(args) -> int:
    from pathlib import Path

    from .registry.loader import builtin_dir, validate_folder

    folder = Path(args.dir) if args.dir else builtin_dir()
    entries, problems = validate_folder(folder)
    if args.json:
        emit_json({"folder": str(folder), "valid": len(entries), "problems": [p.__dict__ for p in problems]})
    elif problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) in {folder}; {len(entries)} valid entries.", file=sys.stderr)
    else:
        print(f"{folder}: {len(entries)} entries, all valid.", file=sys.stderr)
    return 1 if problems else 0


def cmd_registry_schema(args) -> int:
    from .registry.models import Entry

    emit_json(Entry.model_json_schema(by_alias=True))
    return 0


# ----------------------------------------------------------------------------- data commands
def cmd_fetch(args) -> int:
    from .pipeline import fetch_command

    return fetch_command(args)


def cmd_verify(args) -> int:
    from .pipeline import verify_command

    return verify_command(args)


def cmd_download(args) -> int:
    from .transfer.cli import download_command

    return download_command(args)


def cmd_annotations_convert(args) -> int:
    from .annotations.cli import convert_command

    return convert_command(args)


def cmd_list(args) -> int:
    from .local import list_command

    return list_command(args)


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="histodata",
        description="Find, download, verify and use public histopathology datasets.",
        epilog="Run `histodata COMMAND --help` for a command's options. Docs: docs/index.md",
    )
    parser.add_argument("--version", action="version", version=f"histodata {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug log on standard error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("search", help="search the catalog",
                       description="Free-text search over names, aliases, summaries, organs, stains and "
                                   "tasks, with filters. No text and no filter lists the whole catalog.")
    p.add_argument("text", nargs="?", help="words that must all match (e.g. 'breast mitosis')")
    for name, example in (("organ", "breast"), ("stain", "h&e, ihc"), ("task", "segmentation"),
                          ("access", "open, registration, request, unavailable"),
                          ("modality", "wsi, patch, roi, tma, cell, mixed")):
        p.add_argument(f"--{name}", help=f"only entries with this {name} ({example}; synonyms accepted)")
    p.add_argument("--json", action="store_true", help="print the full entries as a JSON list")
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("info", help="show one dataset", description="A readable card of one entry.")
    p.add_argument("id")
    p.add_argument("--json", action="store_true", help="print the full entry as JSON")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("cite", help="print a dataset's citation")
    p.add_argument("id")
    p.add_argument("--format", choices=("bibtex", "text"), default="bibtex")
    p.set_defaults(handler=cmd_cite)

    p = sub.add_parser("fetch", help="download, verify and standardize a dataset",
                       description="Resolve the entry's sources into files, download and verify them into "
                                   "<root>/<id>/raw/, then standardize them into the local layout.")
    p.add_argument("id")
    p.add_argument("--root", help="data root (default: $HISTODATA_HOME or the user data folder)")
    p.add_argument("--files", action="append", metavar="GLOB",
                   help="only files whose path matches this glob (repeatable)")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="adopt files a person downloaded by hand from DIR (gated data)")
    p.add_argument("--dry-run", action="store_true", help="list what would be downloaded, with sizes")
    p.add_argument("--workers", type=int, help="parallel downloads (default 4)")
    p.add_argument("--source", type=int, metavar="N", help="use only the entry's N-th source (1-based)")
    p.add_argument("--no-standardize", action="store_true", help="stop after the verified raw files")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler=cmd_fetch)

    p = sub.add_parser("verify", help="re-check local files against recorded checksums")
    p.add_argument("id")
    p.add_argument("--root", help="data root")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_verify)

    p = sub.add_parser("download", help="download one URL with verification and resume")
    p.add_argument("url")
    p.add_argument("-o", "--output", required=True, metavar="PATH", help="target file")
    for algorithm in ("md5", "sha1", "sha256", "sha512"):
        p.add_argument(f"--{algorithm}", metavar="HEX", help=f"expected {algorithm}")
    p.add_argument("--size", type=int, help="expected size in bytes")
    p.add_argument("--header", action="append", metavar="'NAME: VALUE'",
                   help="extra request header, e.g. an Authorization (never printed or logged; repeatable)")
    p.add_argument("--allow-html", action="store_true", help="accept an HTML answer (the file really is HTML)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler=cmd_download)

    p = sub.add_parser("annotations", help="annotation tools")
    asub = p.add_subparsers(dest="annotations_command", metavar="ACTION", required=True)
    c = asub.add_parser("convert", help="convert an annotation file to QuPath-compatible GeoJSON",
                        description="Input formats are detected: ASAP XML, Aperio/ImageScope XML, "
                                    "DSA/Girder annotation JSON, QuPath GeoJSON.")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT")
    c.set_defaults(handler=cmd_annotations_convert)

    p = sub.add_parser("registry", help="registry tools")
    rsub = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    c = rsub.add_parser("validate", help="validate registry entries")
    c.add_argument("dir", nargs="?", help="a folder of YAML files (default: the built-in registry)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler=cmd_registry_validate)
    c = rsub.add_parser("schema", help="print the entry format as JSON Schema")
    c.set_defaults(handler=cmd_registry_schema)

    for name in ("list", "status"):
        p = sub.add_parser(name, help="datasets on disk, their size and state",
                           description="What is in the data root: each dataset, its size and state.")
        p.add_argument("--local", action="store_true", help="(default) list local datasets")
        p.add_argument("--root", help="data root")
        p.add_argument("--json", action="store_true")
        p.set_defaults(handler=cmd_list)
    return parser


def setup_logging(verbose: bool) -> None:
    from .redact import RedactingFilter

    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("histodata")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if verbose:
        urllib3 = logging.getLogger("urllib3")
        urllib3.handlers[:] = [handler]
        urllib3.setLevel(logging.DEBUG)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except HistodataError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as err:  # an unexpected failure: short message, details with -v
        from .redact import redact

        if args.verbose:
            import traceback

            sys.stderr.write(redact(traceback.format_exc()))
        print(f"error: unexpected {type(err).__name__}: {redact(str(err))} "
              "(this is a bug; run with -v for details and report it)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())

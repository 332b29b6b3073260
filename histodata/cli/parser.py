"""The argument parser of `histodata`: every command, its options and its handler.

Handlers are named as `module:function` under `histodata.cli` and imported only when their command
runs, so `histodata search` never loads the download machinery (see `histodata.cli.main`).
"""
from __future__ import annotations

import argparse

from .._version import __version__
from ..constants import CHECKSUM_ALGORITHMS, DISTRIBUTION, docs_page

SEARCH_FILTERS = (("organ", "breast"), ("stain", "h&e, ihc"), ("task", "segmentation"),
                  ("access", "open, registration, request, unavailable"),
                  ("modality", "wsi, patch, roi, tma, cell, mixed"))


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole(text, 1)


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    return _whole(text, 0)


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is too small (at least {least})")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="histodata",
        description="Find, download, verify and use public histopathology datasets.",
        epilog=f"Run `histodata COMMAND --help` for a command's options. Docs: {docs_page('')}",
    )
    parser.add_argument("--version", action="version", version=f"histodata {__version__} (pip: {DISTRIBUTION})")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug log on standard error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_catalog_commands(sub)
    add_data_commands(sub)
    add_tool_commands(sub)
    accept_verbose_anywhere(parser)
    return parser


def accept_verbose_anywhere(parser: argparse.ArgumentParser) -> None:
    """`-v` after the command too (`histodata fetch ID -v`), on every command and action."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):
                command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                                     help="debug log on standard error")
                accept_verbose_anywhere(command)


def dataset_arguments(p: argparse.ArgumentParser) -> None:
    """The dataset a data command works on, and the root it lives in."""
    p.add_argument("id", help="the dataset's id (any case, or one of its aliases)")
    p.add_argument("--root", help="data root (default: $HISTODATA_HOME or the user data folder)")


def add_catalog_commands(sub) -> None:
    p = sub.add_parser("search", help="search the catalog",
                       description="Free-text search over names, aliases, summaries, organs, stains and "
                                   "tasks, with filters. No text and no filter lists the whole catalog.")
    p.add_argument("text", nargs="*", help="words that must all match (e.g. breast mitosis)")
    for name, example in SEARCH_FILTERS:
        p.add_argument(f"--{name}", help=f"only entries with this {name} ({example}; synonyms accepted)")
    p.add_argument("--wide", action="store_true",
                   help="every column (name, modality, size, license too), not only what fits the terminal")
    p.add_argument("--json", action="store_true", help="print the full entries as a JSON list")
    p.set_defaults(handler="catalog:search")

    p = sub.add_parser("info", help="show one dataset", description="A readable card of one entry.")
    p.add_argument("id")
    p.add_argument("--json", action="store_true", help="print the full entry as JSON")
    p.set_defaults(handler="catalog:info")

    p = sub.add_parser("cite", help="print a dataset's citation")
    p.add_argument("id")
    p.add_argument("--format", choices=("bibtex", "text"), default="bibtex")
    p.set_defaults(handler="catalog:cite")

    p = sub.add_parser("croissant", help="print a dataset's Croissant 1.0 metadata (JSON-LD)",
                       description="Croissant 1.0 JSON-LD (MLCommons) for the entry: description, license, "
                                   "citation, files with sizes and checksums. When the dataset is standardized "
                                   "in the data root, the manifest is described too, as the record set "
                                   "`samples` that mlcroissant and TFDS read.")
    p.add_argument("id")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.add_argument("--root", help="data root where a standardized copy is looked for")
    p.set_defaults(handler="croissant:croissant")


def connections_count(text: str) -> int:
    """--connections N: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1 (1 = one stream per file)")
    return value


CONNECTIONS_HELP = ("most connections for one large file on a server that honours ranges (default 8, or "
                    "$HISTODATA_CONNECTIONS; 1 = one stream); they count against the per-host limits")


def add_data_commands(sub) -> None:
    p = sub.add_parser("fetch", help="download, verify and standardize a dataset",
                       description="Resolve the entry's sources into files, download and verify them into "
                                   "<root>/<id>/raw/, then standardize them into the local layout.")
    dataset_arguments(p)
    p.add_argument("--files", action="append", metavar="GLOB",
                   help="only files whose path matches this glob (repeatable)")
    p.add_argument("--where", action="append", metavar="FIELD=VALUE",
                   help="only files whose metadata matches, e.g. project=TCGA-BRCA (repeatable = all must "
                        "match; A,B = either; `histodata info ID` lists the fields)")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="adopt files a person downloaded by hand from DIR (gated data)")
    p.add_argument("--dry-run", action="store_true", help="list what would be downloaded, with sizes")
    p.add_argument("--workers", type=positive_int, help="parallel downloads (default 4; on a cluster: per host)")
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="download (and run per-sample standardize steps) as tasks on a Dask cluster: a "
                        "scheduler address (tcp://host:8786), or local / local:N for N worker processes "
                        "here; the root must be a folder every worker sees at the same path")
    p.add_argument("--shard", metavar="I/N",
                   help="only the I-th of N deterministic parts of the selected files (1 <= I <= N; job "
                        "arrays); shards may run at once into one root; a later plain fetch finishes")
    p.add_argument("--connections", type=connections_count, metavar="N", help=CONNECTIONS_HELP)
    p.add_argument("--source", type=positive_int, metavar="N", help="use only the entry's N-th source (1-based)")
    p.add_argument("--no-standardize", action="store_true", help="stop after the verified raw files")
    p.add_argument("--no-keep-raw", action="store_true",
                   help="after standardizing, remove the raw files the standardized copy does not need "
                        "(as `histodata rm ID --raw-only`)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler="fetch:fetch")

    p = sub.add_parser("verify", help="re-check local files against the registry and recorded checksums",
                       description="Re-hash the dataset's raw files offline: every file the registry lists "
                                   "must be there, with the registry's checksums and the sha256 recorded "
                                   "when it was fetched. Exit 1 when anything is missing or changed.")
    dataset_arguments(p)
    p.add_argument("--files", action="append", metavar="GLOB",
                   help="only files whose path matches this glob (repeatable), e.g. after `fetch --files`")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="fetch:verify")

    p = sub.add_parser("standardize", help="make the standardized copy again from the raw files",
                       description="Standardize a fetched dataset: redo what changed or is damaged, or "
                                   "everything with --force (images/, masks/, annotations/, extracted/ and "
                                   "the manifest are made again from raw/).")
    dataset_arguments(p)
    p.add_argument("--force", action="store_true", help="redo it even when it is up to date")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler="local:standardize")

    p = sub.add_parser("rm", help="remove a dataset from disk, or only its raw files",
                       description="Remove a dataset's folder. With --raw-only, remove only the raw files "
                                   "its standardized copy does not need (that copy must be intact; files it "
                                   "uses in place stay); `verify` then reports them as dropped.")
    dataset_arguments(p)
    p.add_argument("--raw-only", action="store_true", help="keep the standardized copy, reclaim the raw files")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler="local:remove")

    p = sub.add_parser("download", help="download one URL with verification and resume")
    p.add_argument("url")
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="target file, or a folder (PATH/<the URL's file name>)")
    for algorithm in CHECKSUM_ALGORITHMS:
        p.add_argument(f"--{algorithm}", metavar="HEX", help=f"expected {algorithm}")
    p.add_argument("--size", type=non_negative_int, help="expected size in bytes")
    p.add_argument("--header", action="append", metavar="'NAME: VALUE'",
                   help="extra request header, e.g. an Authorization (never printed or logged; repeatable)")
    p.add_argument("--connections", type=connections_count, metavar="N", help=CONNECTIONS_HELP)
    p.add_argument("--allow-html", action="store_true",
                   help="accept an HTML answer (the file really is HTML)")
    p.add_argument("--quiet", action="store_true", help="no progress display")
    p.add_argument("--json", action="store_true", help="print a JSON report")
    p.set_defaults(handler="download:download")

    p = sub.add_parser("list", aliases=["status"], help="datasets on disk, their size and state",
                       description="What is in the data root: each dataset, its size and state.")
    p.add_argument("--local", action="store_true", help="(default) list local datasets")
    p.add_argument("--root", help="data root")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler="local:list_datasets")


def add_tool_commands(sub) -> None:
    p = sub.add_parser("annotations", help="annotation tools")
    asub = p.add_subparsers(dest="annotations_command", metavar="ACTION", required=True)
    c = asub.add_parser("convert", help="convert an annotation file to QuPath-compatible GeoJSON",
                        description="Input formats are detected: ASAP XML, Aperio/ImageScope XML, "
                                    "DSA/Girder annotation JSON, QuPath GeoJSON.")
    c.add_argument("input", metavar="IN")
    c.add_argument("output", metavar="OUT", help="a .geojson file, or a folder (OUT/<IN's name>.geojson)")
    c.set_defaults(handler="annotations:convert")

    p = sub.add_parser("registry", help="registry tools")
    rsub = p.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    c = rsub.add_parser("validate", help="validate registry entries")
    c.add_argument("dir", nargs="?", help="a folder of YAML files (default: the built-in registry)")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler="registry:validate")
    c = rsub.add_parser("schema", help="print the entry format as JSON Schema")
    c.set_defaults(handler="registry:schema")
    c = rsub.add_parser("lock", help="pin the provider's current file names, sizes and checksums into an entry",
                        description="Ask the provider of each of the entry's sources (zenodo, figshare, "
                                    "dataverse, s3, girder, gdc, idc, ...) for its current files and show, as a "
                                    "diff of the entry's YAML, their names, sizes and published checksums "
                                    "pinned under the source's `files:`. Only that list is rewritten; "
                                    "comments and the rest of the file stay. Nothing is saved without --write.")
    c.add_argument("id")
    c.add_argument("--write", action="store_true", help="save the change into the entry's YAML file")
    c.add_argument("--source", type=int, metavar="N", help="lock only the entry's N-th source (1-based)")
    c.add_argument("--max-files", type=int, default=2000, metavar="N",
                   help="refuse a source listing more files than this (default 2000)")
    c.add_argument("--json", action="store_true", help="print what changed (and the diff) as JSON")
    c.set_defaults(handler="registry:lock")

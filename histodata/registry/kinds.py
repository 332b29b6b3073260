"""The source kinds: one row per kind, read by the registry models, the cards, the docs and fetch.

Pure data (no imports beyond the standard library), so validating or searching the registry never
loads a provider's module. A new kind is one module under `histodata/sources/` plus one row here
(see docs/adding-a-source.md).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """What the rest of histodata needs to know about one source kind."""

    name: str                                   # the registry's `kind` value
    module: str                                 # its module under histodata.sources
    summary: str                                # one line, for the docs
    # Fields a source of this kind must have: each tuple is a set of alternatives, one is enough.
    required: tuple[tuple[str, ...], ...] = ()
    # The fields that say where the data is, in the order a card or docs page shows them.
    locators: tuple[str, ...] = ()
    # Every file of the source carries its own `url` (the registry's files are the listing).
    file_urls: bool = False
    # Some of its files need the module's own `download(remote, path, session, quiet=...)` step
    # (more than one plain GET); such files name the kind in `RemoteFile.downloader`.
    own_download: bool = False
    # `fetch` uses it without a person (everything but files downloaded by hand).
    automatic: bool = True


KINDS: dict[str, Kind] = {row.name: row for row in (
    Kind("http", "http", "files with their own HTTP(S) URLs", file_urls=True),
    Kind("zenodo", "zenodo", "a Zenodo record", required=(("record",),), locators=("record", "version")),
    Kind("figshare", "figshare", "a figshare article or collection",
         required=(("article", "collection"),), locators=("article", "collection", "version")),
    Kind("dataverse", "dataverse", "a dataset on a Dataverse server",
         required=(("server",), ("doi",)), locators=("version", "server", "doi")),
    Kind("mendeley", "mendeley", "a Mendeley Data dataset",
         required=(("dataset",),), locators=("version", "dataset")),
    Kind("s3", "s3", "a public S3 bucket (or an S3-compatible endpoint)",
         required=(("bucket",), ("region", "endpoint")), locators=("bucket", "region", "endpoint", "prefix")),
    Kind("gdrive", "gdrive", "Google Drive public links (a folder, a file, or files by id)",
         required=(("folder", "file", "files"),), locators=("folder", "file", "resource_key"),
         own_download=True),
    Kind("girder", "girder", "a Girder / Digital Slide Archive server (files, region crops, annotations)",
         required=(("api_url",), ("folder", "item", "path")), locators=("folder", "api_url", "item", "path"),
         own_download=True),
    Kind("grand-challenge", "grand_challenge", "a grand-challenge.org archive",
         required=(("archive",),), locators=("api_url", "archive")),
    Kind("kaggle", "kaggle", "a Kaggle competition or dataset",
         required=(("competition", "dataset"),), locators=("version", "dataset", "competition"),
         own_download=True),
    Kind("ftp", "ftp", "files with their own ftp:// URLs", file_urls=True),
    Kind("manual", "manual", "files a person downloads by hand, adopted with `fetch --from`",
         automatic=False),
)}


def kind(name: str) -> Kind:
    """The row of kind `name`; KeyError for an unknown kind."""
    return KINDS[name]


def kind_names() -> tuple[str, ...]:
    """Every kind, in the table's order."""
    return tuple(KINDS)


def automatic_kinds() -> frozenset[str]:
    """The kinds `fetch` uses without a person."""
    return frozenset(name for name, row in KINDS.items() if row.automatic)


def own_download_kinds() -> frozenset[str]:
    """The kinds whose modules have a `download` step of their own."""
    return frozenset(name for name, row in KINDS.items() if row.own_download)

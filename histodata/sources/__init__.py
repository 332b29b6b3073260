"""Where the bytes are: one module per source kind, each turning a registry source into files.

Every kind module exposes `list_files(source, session, entry) -> list[RemoteFile]`.
"""
from __future__ import annotations

import importlib

# kind -> module name under histodata.sources
KIND_MODULES = {
    "http": "http",
    "ftp": "ftp",
    "zenodo": "zenodo",
    "figshare": "figshare",
    "dataverse": "dataverse",
    "mendeley": "mendeley",
    "s3": "s3",
    "gdrive": "gdrive",
    "girder": "girder",
    "grand-challenge": "grand_challenge",
    "kaggle": "kaggle",
    "manual": "manual",
}


def kind_module(kind: str):
    """The module that resolves sources of `kind`."""
    return importlib.import_module(f"histodata.sources.{KIND_MODULES[kind]}")

"""Where the bytes are: one module per source kind, each turning a registry source into files.

Every kind module follows `base.Provider`: `list_files(source, session, entry) -> list[RemoteFile]`,
plus `download(remote, path, session, quiet=...)` when its row in `histodata.registry.kinds` says
`own_download`. Which module serves which kind is written only in that table.
"""
from __future__ import annotations

import importlib

from ..registry.kinds import KINDS


def kind_module(kind: str):
    """The module that resolves sources of `kind`."""
    return importlib.import_module(f"histodata.sources.{KINDS[kind].module}")


def kind_download(kind: str):
    """The `download(remote, path, session, quiet=...)` step of `kind` (a `RemoteFile.downloader`)."""
    if not KINDS[kind].own_download:
        raise ValueError(f"source kind {kind!r} has no download step of its own")
    return kind_module(kind).download

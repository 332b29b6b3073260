"""`kind: http` — every file of the source has its own URL; the registry's files are the listing."""
from __future__ import annotations

from .base import RemoteFile, files_from_specs


def list_files(source, session, entry) -> list[RemoteFile]:
    """The registry's files as they are: name, url, size and pinned checksums (no network)."""
    return files_from_specs(source, "http")

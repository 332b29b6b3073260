"""`kind: ftp` — per-file `ftp://` URLs, downloaded by the engine's FTP path."""
from __future__ import annotations

from .base import RemoteFile, files_from_specs


def list_files(source, session, entry) -> list[RemoteFile]:
    """The registry's files as they are (no network): FTP servers publish no checksums."""
    return files_from_specs(source, "ftp")

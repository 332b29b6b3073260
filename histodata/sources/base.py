"""What every source kind produces: a list of remote files with what is known of their bytes."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field


@dataclass
class RemoteFile:
    """One file to download into `<root>/<id>/raw/<name>`."""

    name: str                                   # relative '/'-separated path under raw/
    url: str                                    # where the bytes are (before the mirror map)
    size: int | None = None
    checksums: dict[str, str] = field(default_factory=dict)   # algorithm -> expected hex
    checksum_origin: str | None = None          # "registry", "provider" or None (unverified)
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # credentials: never logged
    source_kind: str = ""
    # A kind whose files need more than one plain GET (Drive's confirm form, Kaggle's RPC POST,
    # DSA region crops): the fetch flow calls kind_module(downloader).download(remote, path, session).
    downloader: str | None = None

    @property
    def verified_by(self) -> str:
        """How the bytes will be checked, for messages: e.g. 'md5 (registry)' or 'size only'."""
        if self.checksums:
            return f"{'+'.join(sorted(self.checksums))} ({self.checksum_origin or 'provider'})"
        return "size only (unverified)" if self.size is not None else "unverified"


def apply_pinned(files: list[RemoteFile], pinned) -> list[RemoteFile]:
    """Registry (pinned) sizes and checksums win over the provider's, matched by file name.

    `pinned` is the source's `files` list from the registry (FileSpec models) or None.
    """
    by_name = {spec.name: spec for spec in pinned or []}
    for remote in files:
        spec = by_name.get(remote.name)
        if spec is None:
            continue
        if spec.checksums:
            remote.checksums = dict(spec.checksums)
            remote.checksum_origin = "registry"
        if spec.size is not None:
            remote.size = spec.size
    return files


def safe_relative_path(name: str) -> str:
    """A server-given name made safe to join under raw/: no absolute paths, '..', drive letters
    or control characters. Raises ValueError when nothing usable is left."""
    cleaned = name.replace("\\", "/")
    parts = []
    for part in cleaned.split("/"):
        part = "".join(ch for ch in part if ch >= " " and ch != "\x7f").strip()
        if part in ("", ".", ".."):
            continue
        if len(part) >= 2 and part[1] == ":":
            part = part.replace(":", "_")
        parts.append(part)
    if not parts:
        raise ValueError(f"unusable file name {name!r}")
    return posixpath.join(*parts)

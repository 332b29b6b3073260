"""Published checksum manifests (`md5sum`/`sha256sum` output, or BSD `MD5 (path) = hex` lines).

A source may name one of its own files as `checksums_file` (its path under raw/, e.g.
`CAMELYON16/checksums.md5`); its checksums then verify the other files of that source, matched
by their path relative to the manifest's folder (or, failing that, by the longest path suffix
that is unique in the manifest). Registry pins still win over it.
"""
from __future__ import annotations

import posixpath
import re

from ..constants import CHECKSUM_ALGORITHMS
from ..errors import DownloadError
from .base import RemoteFile, api_get

ALGORITHM_BY_LENGTH = {length: name for name, length in CHECKSUM_ALGORITHMS.items()}
_HEX = f"[0-9a-fA-F]{{{min(ALGORITHM_BY_LENGTH)},{max(ALGORITHM_BY_LENGTH)}}}"
_GNU_LINE = re.compile(rf"^\\?({_HEX})\s[ *]?(.+)$")
_BSD_LINE = re.compile(rf"^({'|'.join(CHECKSUM_ALGORITHMS)})\s*\((.+)\)\s*=\s*({_HEX})$", re.I)


def normalize_path(path: str) -> str:
    path = path.strip().replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path.lstrip("/")


def parse_manifest(text: str) -> dict[str, dict[str, str]]:
    """{path: {algorithm: hex}} from the lines of a checksum manifest; other lines are ignored."""
    sums: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        line = line.strip()
        gnu, bsd = _GNU_LINE.match(line), _BSD_LINE.match(line)
        if bsd:
            algorithm, path, digest = bsd.group(1).lower(), bsd.group(2), bsd.group(3)
        elif gnu:
            digest, path = gnu.groups()
            algorithm = ALGORITHM_BY_LENGTH.get(len(digest))
        else:
            continue
        if algorithm and ALGORITHM_BY_LENGTH.get(len(digest)) == algorithm:
            sums.setdefault(normalize_path(path), {})[algorithm] = digest.lower()
    return sums


class ManifestIndex:
    """Look a file up by its path relative to the manifest's folder, else by a unique suffix."""

    def __init__(self, sums: dict[str, dict[str, str]]):
        self.sums = sums
        self.suffix_counts: dict[str, int] = {}
        for path in sums:
            parts = path.split("/")
            for start in range(len(parts)):
                suffix = "/".join(parts[start:])
                self.suffix_counts[suffix] = self.suffix_counts.get(suffix, 0) + 1
        self.by_suffix = {}
        for path, value in sums.items():
            parts = path.split("/")
            for start in range(len(parts)):
                suffix = "/".join(parts[start:])
                if self.suffix_counts[suffix] == 1:
                    self.by_suffix[suffix] = value

    def lookup(self, relative: str) -> dict[str, str] | None:
        if relative in self.sums:
            return self.sums[relative]
        parts = relative.split("/")
        for start in range(len(parts)):           # the longest suffix first
            found = self.by_suffix.get("/".join(parts[start:]))
            if found is not None:
                return found
        return None


def apply_manifest(remotes: list[RemoteFile], source, session) -> list[RemoteFile]:
    """Fetch the source's `checksums_file` (if it names one) and give its checksums to the files."""
    manifest_name = getattr(source, "checksums_file", None)
    if not manifest_name:
        return remotes
    manifest = next((r for r in remotes if r.name == manifest_name), None)
    if manifest is None:
        raise DownloadError(f"the checksums file {manifest_name!r} named by the registry is not among the "
                            "source's files.", "Fix `checksums_file` in the registry entry.")
    response = api_get(session, manifest.url, what="checksums file", headers=manifest.headers)
    index = ManifestIndex(parse_manifest(response.content.decode("utf-8", errors="replace")))
    folder = posixpath.dirname(manifest_name) + "/"
    for remote in remotes:
        relative = remote.name[len(folder):] if remote.name.startswith(folder) else remote.name
        sums = index.lookup(relative) if remote is not manifest else None
        if sums:
            remote.checksums = {**sums, **remote.checksums}
            remote.checksum_origin = remote.checksum_origin or "provider"
    return remotes

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
    """Fetch the source's `checksums_file` (one path, or a list of them) and give its checksums to
    the files. One manifest speaks for every file of the source; of several (e.g. CAMELYON16/ and
    CAMELYON17/ each with their own checksums.md5), each speaks only for the files in its folder,
    the deepest folder first."""
    names = getattr(source, "checksums_file", None)
    if not names:
        return remotes
    names = [names] if isinstance(names, str) else list(names)
    by_name = {r.name: r for r in remotes}
    missing = [name for name in names if name not in by_name]
    if missing:
        raise DownloadError(f"the checksums file {missing[0]!r} named by the registry is not among the "
                            "source's files.", "Fix `checksums_file` in the registry entry.")
    manifests = sorted(((by_name[name], _folder(name)) for name in names), key=lambda m: -len(m[1]))
    indexes = {manifest.name: _read_index(manifest, session) for manifest, _ in manifests}
    for remote in remotes:
        if remote.name in indexes:
            continue
        for manifest, folder in manifests:
            if len(manifests) > 1 and not remote.name.startswith(folder):
                continue
            relative = remote.name[len(folder):] if remote.name.startswith(folder) else remote.name
            sums = indexes[manifest.name].lookup(relative)
            if sums:
                remote.checksums = {**sums, **remote.checksums}
                remote.checksum_origin = remote.checksum_origin or "provider"
            break
    return remotes


def _folder(manifest_name: str) -> str:
    folder = posixpath.dirname(manifest_name)
    return folder + "/" if folder else ""


def _read_index(manifest: RemoteFile, session) -> ManifestIndex:
    response = api_get(session, manifest.url, what="checksums file", headers=manifest.headers)
    return ManifestIndex(parse_manifest(response.content.decode("utf-8", errors="replace")))

"""The mirror map ($HISTODATA_MIRRORS): URL prefix rewrites applied to every request."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import constants
from .errors import HistodataError

_SPLIT = re.compile(r"[;\s]+")
_SCHEMES = ("http", "https", "ftp")


def parse_mirrors(spec: str) -> list[tuple[str, str]]:
    """`ORIGINAL=REPLACEMENT` pairs separated by `;` or whitespace, longest original first."""
    pairs = []
    for item in _SPLIT.split(spec or ""):
        if not item:
            continue
        original, sep, replacement = item.partition("=")
        if not sep or not original or not replacement:
            raise HistodataError(f"invalid {constants.ENV_MIRRORS} item {item!r}.",
                                 "Write pairs ORIGINAL=REPLACEMENT separated by ';' or spaces, e.g. "
                                 "https://zenodo.org=http://127.0.0.1:8766")
        _check_pair(item, original, replacement)
        pairs.append((original.rstrip("/") if original.count("/") <= 2 else original, replacement))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


def _check_pair(item: str, original: str, replacement: str) -> None:
    """Refuse, naming the item and the fix, what would send requests nowhere useful."""
    for role, url in (("original", original), ("replacement", replacement)):
        parts = urlsplit(url)
        if parts.scheme.lower() not in _SCHEMES or not parts.netloc:
            raise HistodataError(f"invalid {constants.ENV_MIRRORS} item {item!r}: the {role} {url!r} is not "
                                 "an http://, https:// or ftp:// URL with a host.",
                                 "Mirrors must be servers (a local folder cannot be one: serve it, e.g. with "
                                 "`python -m http.server`), written like https://zenodo.org=http://127.0.0.1:8766")
    if original.endswith("/") and not replacement.endswith("/"):
        raise HistodataError(f"invalid {constants.ENV_MIRRORS} item {item!r}: the original ends with '/' but "
                             "the replacement does not, so the rest of each URL would be glued to it.",
                             f"Write both with a trailing slash or neither, e.g. {original}={replacement}/")


def _prefix_matches(url: str, prefix: str) -> bool:
    if not url.startswith(prefix):
        return False
    rest = url[len(prefix):]
    return prefix.endswith("/") or not rest or rest[0] in "/?#"


def apply_mirrors(url: str, pairs: list[tuple[str, str]] | None = None) -> str:
    """Rewrite `url` with the longest matching prefix of the mirror map (if any)."""
    if pairs is None:
        pairs = parse_mirrors(constants.mirrors_spec())
    for original, replacement in pairs:
        if _prefix_matches(url, original):
            rest = url[len(original):]
            if replacement.endswith("/") and rest.startswith("/"):
                rest = rest[1:]
            return replacement + rest
    return url

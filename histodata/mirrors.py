"""The mirror map ($HISTODATA_MIRRORS): URL prefix rewrites applied to every request."""
from __future__ import annotations

import re

from . import constants
from .errors import HistodataError

_SPLIT = re.compile(r"[;\s]+")


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
        pairs.append((original.rstrip("/") if original.count("/") <= 2 else original, replacement))
    return sorted(pairs, key=lambda pair: len(pair[0]), reverse=True)


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

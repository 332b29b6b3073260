"""File-name globs as the registry and the command line use them: `--files` patterns and a source's
`include` (pure standard library, so the catalog's fast path can apply `include` to sizes)."""
from __future__ import annotations

import fnmatch
import posixpath


def matches(name: str, pattern: str) -> bool:
    """A --files pattern against a relative path: fnmatch on the whole path or on the base name."""
    return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(posixpath.basename(name), pattern)


def is_included(name: str, include: str | list[str] | None) -> bool:
    """Whether a file name passes a source's `include` globs (one glob or a list; none = all)."""
    if not include:
        return True
    patterns = [include] if isinstance(include, str) else list(include)
    return any(matches(name, p) for p in patterns)

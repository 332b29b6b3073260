"""One rule for every paged listing and every folder tree a service answers: its answers are
untrusted, so a listing always ends.

A paged listing (`follow`, or a `Pager` for loops of their own shape) stops, with a warning naming
the service, when the service hands back a page token or URL it already gave (asking again would
return the same page forever) or a page that holds nothing new (every record was seen before: the
server ignores the token or offset). Past `max_pages()` pages (HISTODATA_MAX_PAGES) the listing is a
DownloadError that says how to go on, never a silent truncation. Records seen twice are kept once.

A folder tree (`walk_tree`) is walked without recursion (any depth), and a folder met twice (a
folder inside itself, a link back up) is walked once, with a warning.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from ..constants import ENV_MAX_PAGES, max_pages
from ..errors import DownloadError

log = logging.getLogger(__name__)

NO_TOKEN = None     # `follow`'s page function returns this as the next token: the listing is complete


def _identity(record: Any, key: Callable[[Any], Any] | None) -> Hashable:
    """What makes a record the same record again: `key(record)`, else (or when that is None or not
    hashable) its text."""
    value = None
    if key is not None:
        try:
            value = key(record)
            hash(value)
        except (AttributeError, KeyError, TypeError, IndexError):
            value = None
    return value if value is not None else repr(record)


class Pager:
    """The state of one paged listing of `service` (named in warnings and errors)."""

    def __init__(self, service: str, key: Callable[[Any], Any] | None = None):
        self.service = service
        self.key = key
        self.pages = 0
        self.limit = max_pages()
        self.stalled = False
        self._tokens: set[Hashable] = set()
        self._records: set[Hashable] = set()

    def ask(self, token: Hashable = None) -> bool:
        """Call before asking for a page (with its token, URL or offset; None for the first page):
        False, after a warning, when that token was asked for already; a DownloadError when the
        page cap is reached."""
        if token is not None and token in self._tokens:
            log.warning("%s handed back a page token it gave before (%s); the listing stops there with "
                        "what it listed.", self.service, _short(token))
            return False
        if self.pages >= self.limit:
            raise DownloadError(
                f"the listing of {self.service} did not end after {self.pages} pages.",
                f"If it is really that long, raise the cap with {ENV_MAX_PAGES}=N (now {self.limit}); "
                "otherwise the service is misbehaving: try again later or another source of the entry.")
        if token is not None:
            self._tokens.add(token)
        self.pages += 1
        return True

    def fresh(self, records: Iterable, warn: bool = True) -> list:
        """The records of a page not seen before, in order. A page that had records but nothing new
        sets `stalled` (and warns, unless `warn` is False): the caller stops there."""
        records = list(records)
        new = []
        for record in records:
            identity = _identity(record, self.key)
            if identity not in self._records:
                self._records.add(identity)
                new.append(record)
        self.stalled = bool(records) and not new
        if self.stalled and warn:
            log.warning("%s answered a page with nothing new (it ignores paging?); the listing stops there "
                        "with what it listed.", self.service)
        return new


def follow(service: str, page: Callable[[Any], tuple[list, Any]], *, first: Hashable = None,
           key: Callable[[Any], Any] | None = None) -> Iterator:
    """Every record of a paged listing: `page(token)` asks for one page and returns (its records,
    the next token, or None when the listing is complete); `first` is the first page's token.
    The Pager's rules apply (see the module docstring)."""
    pager = Pager(service, key)
    token = first
    while pager.ask(token):
        records, token = page(token)
        yield from pager.fresh(records)
        if token is NO_TOKEN or pager.stalled:
            return


def walk_tree(service: str, root: Hashable, children: Callable[[Any, Any], Iterable[tuple[Any, Any, bool]]],
              *, start: Any = "") -> Iterator[tuple[Any, Any]]:
    """(where, leaf) for every leaf under the folder `root`, a folder's own leaves before its
    subfolders' (depth first, in the order the service gives). `children(folder, where)` yields
    (child, child's where, is_folder) for one folder; `where` is the caller's (e.g. the path under
    raw/; `start` at the root). Folders are keyed by themselves (their id): one met again is
    skipped with a warning. An explicit stack, no recursion: any depth works."""
    seen: set = {root}
    stack = [(root, start)]
    while stack:
        folder, where = stack.pop()
        subfolders = []
        for child, child_where, is_folder in children(folder, where):
            if not is_folder:
                yield child_where, child
            elif child in seen:
                log.warning("%s lists the folder %s twice (a folder inside itself, or a link back up); it is "
                            "walked once.", service, _short(child_where or child))
            else:
                seen.add(child)
                subfolders.append((child, child_where))
        stack.extend(reversed(subfolders))


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."

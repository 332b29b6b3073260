"""`kind: http` — files with their own URLs, or every file under a directory `index`.

An index is a server's generated folder page (nginx `autoindex`, Apache `mod_autoindex`, and their
kin): its links are followed down, never up, never to another host and never to a query (Apache's
sort links), each folder page once and at most HISTODATA_MAX_PAGES pages. A size is taken from a
listing that prints exact bytes after the date (nginx's default); other files are checked by the
Content-Length they are served with, or by the registry's pins for their name.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

from .base import RemoteFile, api_get, files_from_specs, listed_plus_given, safe_relative_path
from .pager import Pager, walk_tree

# "02-Dec-2026 10:14   1048576" (nginx) or "2026-12-02 10:14  512" (Apache, below 1 KiB): exact bytes.
_DATE_THEN_BYTES = re.compile(r"(?:\d{1,2}-\w{3}-\d{4}|\d{4}-\d{2}-\d{2})\s+\d{1,2}:\d{2}(?::\d{2})?\s+(\d+)\s*$")


def list_files(source, session, entry) -> list[RemoteFile]:
    """The index's files (and the registry's files with their own URL) when the source names one,
    else the registry's files as they are."""
    given = files_from_specs(source, "http")
    if not getattr(source, "index", None):
        return given
    return listed_plus_given(index_files(source.index, session), given)


def index_files(index_url: str, session) -> list[RemoteFile]:
    """Every file linked under the folder page `index_url` (any depth), named by its path below it."""
    base = index_url if index_url.endswith("/") else index_url + "/"
    service = f"the directory index {base}"
    pager = Pager(service)

    def children(folder: str, where: str):
        if not pager.ask(folder):
            return
        page = api_get(session, folder, what=service)
        for url, size in _links(page.text, folder):
            name = unquote(url[len(folder):]).rstrip("/")
            if url.endswith("/"):
                yield url, f"{where}{name}/", True
            else:
                yield (url, size), f"{where}{name}", False

    return [RemoteFile(name=safe_relative_path(where), url=url, size=size, source_kind="http")
            for where, (url, size) in walk_tree(service, base, children)]


def _links(html: str, folder: str):
    """(absolute URL, size or None) of each link of a folder page that names a child of `folder`."""
    parser = _IndexPage()
    parser.feed(html)
    parser.close()
    seen = set()
    for href, after in parser.links:
        url = urljoin(folder, href)
        parts = urlsplit(url)
        if parts.query or parts.fragment or not url.startswith(folder) or url == folder or url in seen:
            continue
        child = url[len(folder):].rstrip("/")
        if "/" in child or child in ("", ".", ".."):
            continue
        seen.add(url)
        found = _DATE_THEN_BYTES.search(" ".join(after.split()))
        yield url, int(found.group(1)) if found and not url.endswith("/") else None


class _IndexPage(HTMLParser):
    """The `href` of every link, with the text that follows it up to the next link (date, size)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._after: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._finish()
            href = dict(attrs).get("href")
            if href:
                self.links.append((href, ""))
                self._after = []
        elif tag in ("tr", "br"):
            self._finish()

    def handle_endtag(self, tag):
        if tag == "a" and self._after is not None:
            self._after.clear()          # the link's own text is not the size
        elif tag == "tr":
            self._finish()

    def handle_data(self, data):
        if self._after is not None:
            self._after.append(data)

    def close(self):
        super().close()
        self._finish()

    def _finish(self):
        if self._after is not None and self.links:
            href, _ = self.links[-1]
            self.links[-1] = (href, "".join(self._after))
        self._after = None

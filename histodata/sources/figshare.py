"""`kind: figshare` — files of an article (optionally a version) or of every article of a collection.

Listings are paged (figshare's default is 10 items a page, with no total and no next link): pages
are read until one comes back short or empty. Downloads use the `ndownloader.figshare.com` host
form, because `figshare.com/ndownloader/...` answers bots with an empty 202 (AWS WAF). Link-only
files point to another host and have no checksum. Collection files go under `<article id>/`.
"""
from __future__ import annotations

import re

from ..errors import AccessError, DownloadError
from . import untrusted
from .base import RemoteFile, api_json, remote_name
from .pager import Pager

API = "https://api.figshare.com/v2"
DOWNLOAD_HOST = "https://ndownloader.figshare.com"
PAGE_SIZE = 1000        # figshare's maximum; the default would be 10
SERVICE = "figshare"
_WAF_FORM = re.compile(r"^https?://(?:www\.)?figshare\.com/ndownloader/files/(\d+)")


def list_files(source, session, entry) -> list[RemoteFile]:
    if source.collection:
        return collection_files(session, source.collection)
    return article_files(session, source.article, source.version)


def paged(session, url: str, what: str) -> list[dict]:
    """Every item of a paged listing: `page`/`page_size` pages until a short or empty one; a
    server that ignores `page` (the same items again) is read with `offset`/`limit` instead. The
    pager's rule bounds it (a page cap; an offset page with nothing new ends it)."""
    items: list[dict] = []
    pager = Pager(f"figshare ({what})", key=lambda item: item.get("id"))
    first_page_length = None
    by_offset = False
    page = 0
    while pager.ask(("offset", len(items)) if by_offset else ("page", page + 1)):
        page += 1
        params = ({"offset": len(items), "limit": PAGE_SIZE} if by_offset
                  else {"page": page, "page_size": PAGE_SIZE})
        batch = untrusted.records(api_json(session, url, what=what, params=params), SERVICE, f"{what}: {url}")
        fresh = pager.fresh(batch, warn=by_offset)   # page mode: a page of nothing new switches to offsets
        items += fresh
        first_page_length = first_page_length or len(batch)
        if batch and not fresh and not by_offset:
            by_offset = True          # `page` ignored: continue after what we have, by offset
            continue
        # A server may cap page_size below what was asked: a page shorter than the first ends it.
        if not fresh or len(batch) < min(PAGE_SIZE, first_page_length):
            break
    return items


def article_base(article_id, version) -> str:
    base = f"{API}/articles/{article_id}"
    return f"{base}/versions/{version}" if version not in (None, "", "latest") else base


def article_files(session, article_id, version=None, folder: str = "") -> list[RemoteFile]:
    """The files of one article, in its `folder_structure` folders (under `folder` if given)."""
    base = article_base(article_id, version)
    what = f"figshare article {article_id}"
    article = untrusted.document(api_json(session, base, what=what), SERVICE, what)
    check_downloadable(article, article_id)
    folders = untrusted.mapping(article, "folder_structure", SERVICE, what=f"{what}: folder_structure")
    files = paged(session, f"{base}/files", what)
    if not files:
        files = untrusted.records(article.get("files"), SERVICE, f"{what}: files")
    return unique_names([remote_file(f, folder, _folder_of(folders, f)) for f in files], files)


def _folder_of(folders: dict, f: dict) -> str:
    where = folders.get(str(f.get("id")))
    if where is not None and not isinstance(where, str):
        raise untrusted.answer_error(SERVICE, f"the folder of file {f.get('id')}", f"is {untrusted.describe(where)}")
    return where or ""


def unique_names(remotes: list[RemoteFile], files: list[dict]) -> list[RemoteFile]:
    """figshare allows two files of one name in an article: such files get their file id in the
    name (`image.png` -> `image.<id>.png`) so that neither overwrites the other."""
    counts: dict[str, int] = {}
    for remote in remotes:
        counts[remote.name] = counts.get(remote.name, 0) + 1
    for remote, f in zip(remotes, files, strict=True):
        if counts[remote.name] > 1:
            stem, dot, extension = remote.name.rpartition(".")
            remote.name = f"{stem}.{f.get('id')}.{extension}" if dot and "/" not in extension \
                else f"{remote.name}.{f.get('id')}"
    return remotes


def collection_files(session, collection_id) -> list[RemoteFile]:
    """Every article of a collection; each article's files under `<article id>/`."""
    articles = paged(session, f"{API}/collections/{collection_id}/articles",
                     f"figshare collection {collection_id}")
    if not articles:
        raise DownloadError(f"figshare collection {collection_id} has no public articles.")
    remotes: list[RemoteFile] = []
    for article in articles:
        article_id = untrusted.identifier(article, "id", SERVICE, what="an article's id")
        remotes += article_files(session, article_id, folder=article_id)
    return remotes


def check_downloadable(article: dict, article_id) -> None:
    if untrusted.flag(article, "is_embargoed", SERVICE) or untrusted.flag(article, "download_disabled", SERVICE):
        reason = article.get("embargo_reason") or article.get("embargo_title") or "downloads are disabled"
        raise AccessError(f"figshare article {article_id} is embargoed or not downloadable ({reason}).")


def download_url(f: dict) -> str:
    """The file's URL, with figshare.com/ndownloader (WAF-guarded) moved to the ndownloader host."""
    url = (untrusted.text(f, "download_url", SERVICE, what="a file's download_url")
           or f"{DOWNLOAD_HOST}/files/{untrusted.identifier(f, 'id', SERVICE, what='a file id')}")
    match = _WAF_FORM.match(url)
    return f"{DOWNLOAD_HOST}/files/{match.group(1)}" if match else url


def remote_file(f: dict, folder: str, subfolder: str) -> RemoteFile:
    link_only = untrusted.flag(f, "is_link_only", SERVICE)
    md5 = "" if link_only else (untrusted.text(f, "computed_md5", SERVICE, what="a file's computed_md5")
                                or untrusted.text(f, "supplied_md5", SERVICE, what="a file's supplied_md5")
                                or "").lower()
    size = untrusted.count(f, "size", SERVICE, what="a file's size")
    name = untrusted.text(f, "name", SERVICE, what="a file's name") or untrusted.identifier(f, "id", SERVICE)
    return RemoteFile(name=remote_name(folder, subfolder, name), url=download_url(f),
                      size=None if link_only else size,
                      checksums={"md5": md5} if md5 else {},
                      checksum_origin="provider" if md5 else None, source_kind="figshare")

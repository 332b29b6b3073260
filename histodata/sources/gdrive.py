"""Google Drive public links: single files and whole folders (recursively, no 50-file limit).

A small client of the public web endpoints (what gdown does, but through our mirror-aware
session so the same code runs against the local emulator):

* folders: `GET https://drive.google.com/embeddedfolderview?id=<id>` lists every child (files and
  subfolders, no cap); older `drive/folders/<id>` pages (`_DRIVE_ivd`) are read as a fallback;
* files: `GET https://drive.google.com/uc?id=<id>&export=download`. The answer is the file when it
  has `Content-Disposition` (or is not HTML); otherwise it is an HTML page: the virus-scan confirm form (its action
  plus hidden inputs is the real URL), or a quota / permission / sign-in page, each turned into an
  error that says what to do. Resource keys travel as `resourcekey=`.

Drive publishes no checksums: the registry's pinned ones verify the bytes (`apply_pinned`).
Registry fields: `folder` or `file` (ids), optional `resource_key`; or `files` with an `id` each.
"""
from __future__ import annotations

import codecs
import html
import json
import logging
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlencode, urljoin, urlsplit

import requests

from ..errors import AccessError, DownloadError
from ..http import new_session
from ..transfer import download as engine_download
from ..transfer.retry import (
    RetryableError,
    RetryPolicy,
    network_error,
    request_with_retries,
    retryable_status_error,
    status_is_retryable,
)
from .base import RemoteFile, apply_pinned, remote_name, usable_file_name
from .pager import walk_tree
from .untrusted import answer_error

log = logging.getLogger(__name__)

KIND = "gdrive"
DRIVE = "https://drive.google.com"
MAX_PAGE_BYTES = 4 << 20          # an interstitial page is small; never read a file as a page
MAX_HOPS = 5
FOLDER_MIME = "application/vnd.google-apps.folder"

_FILE_LINK = re.compile(r"https://drive\.google\.com/file/d/([-\w]+)/view")
_DOC_LINK = re.compile(r"https://docs\.google\.com/\w+/d/([-\w]+)/")
_FOLDER_LINK = re.compile(r"https://drive\.google\.com/drive/(?:u/\d+/)?folders/([-\w]+)")


def file_url(file_id: str, resource_key: str | None = None) -> str:
    query = {"id": file_id, "export": "download"}
    if resource_key:
        query["resourcekey"] = resource_key
    return f"{DRIVE}/uc?{urlencode(query)}"


# ----------------------------------------------------------------------------- listing
def list_files(source, session, entry) -> list[RemoteFile]:
    """The files of a Drive folder (recursively), a single file, or the registry's file ids."""
    key = source.resource_key
    if source.folder:
        files = [_remote(name, file_id, key) for name, file_id in walk_folder(session, source.folder, key)]
    elif source.file:
        pinned = source.files or []
        name = pinned[0].name if len(pinned) == 1 else probe_name(session, file_url(source.file, key),
                                                                        fallback=source.file)
        files = [_remote(name, source.file, key)]
    else:
        missing = [spec.name for spec in source.files or [] if not spec.id]
        if missing:
            raise DownloadError(f"the Drive source lists {missing[0]!r} without its file `id`.",
                                "Add the Drive id of every file to the registry entry.")
        files = [_remote(spec.name, spec.id, getattr(spec, "resource_key", None) or key)
                 for spec in source.files or []]
    return apply_pinned(files, source.files)


def _remote(name: str, file_id: str, resource_key: str | None) -> RemoteFile:
    return RemoteFile(name=name, url=file_url(file_id, resource_key), source_kind=KIND, downloader=KIND)


def walk_folder(session, folder_id: str, resource_key: str | None, prefix: str = "") -> list[tuple[str, str]]:
    """(relative name, file id) for every file under the folder, subfolders included (without
    recursion; a folder met twice, e.g. inside itself, is walked once)."""
    def children(folder, where):
        for child_id, name, is_folder in folder_children(session, folder, resource_key):
            yield child_id, remote_name(where, name), is_folder

    return list(walk_tree(f"Google Drive (folder {folder_id})", folder_id, children, start=prefix))


def folder_children(session, folder_id: str, resource_key: str | None) -> list[tuple[str, str, bool]]:
    """(id, name, is_folder) of a folder's children, from the embedded folder view (no cap)."""
    query = {"id": folder_id, **({"resourcekey": resource_key} if resource_key else {})}
    headers = {"X-Goog-Drive-Resource-Keys": f"{folder_id}/{resource_key}"} if resource_key else {}
    response = request_with_retries(session, "GET", f"{DRIVE}/embeddedfolderview?{urlencode(query)}",
                                    headers=headers)
    if response.status_code == 404:     # a server without the embedded view: the old folder page
        legacy = request_with_retries(session, "GET", f"{DRIVE}/drive/folders/{folder_id}?hl=en",
                                      headers=headers)
        if legacy.status_code == 200 and "_DRIVE_ivd" in legacy.text:
            return legacy_children(legacy.text)
    if response.status_code == 200 and not _is_sign_in(response, response.text):
        return EmbeddedFolderView.parse(response.text)
    raise_for_page(response, f"the Drive folder {folder_id}")
    raise DownloadError(f"Google Drive answered HTTP {response.status_code} for the folder {folder_id}.",
                        "Check the folder id and that it is shared with 'Anyone with the link'.")


def _is_sign_in(response, page: str) -> bool:
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL | re.IGNORECASE)
    signed_out = "accounts.google.com" in (response.url or "")
    return signed_out or bool(title and "sign in" in title.group(1).lower())


class EmbeddedFolderView(HTMLParser):
    """Children of an `embeddedfolderview` page: each `<a href>` to a file, doc or folder; its
    name is the `flip-entry-title` text when present, else the link text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.children: list[tuple[str, str, bool]] = []
        self._link: tuple[str, bool] | None = None
        self._text: list[str] = []
        self._title: list[str] | None = None
        self._title_depth = 0

    @classmethod
    def parse(cls, page: str) -> list[tuple[str, str, bool]]:
        parser = cls()
        parser.feed(page)
        parser.close()
        return parser.children

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and self._link is None:
            href = attrs.get("href") or ""
            for pattern, is_folder in ((_FOLDER_LINK, True), (_FILE_LINK, False), (_DOC_LINK, False)):
                match = pattern.search(href)
                if match:
                    self._link, self._text, self._title = (match.group(1), is_folder), [], None
                    break
        elif self._link and tag == "div":
            if "flip-entry-title" in (attrs.get("class") or "").split():
                self._title, self._title_depth = [], 1
            elif self._title is not None and self._title_depth:
                self._title_depth += 1

    def handle_endtag(self, tag):
        if tag == "div" and self._title is not None and self._title_depth:
            self._title_depth -= 1
        elif tag == "a" and self._link:
            name = "".join(self._title if self._title else self._text).strip()
            if name:
                self.children.append((self._link[0], name, self._link[1]))
            self._link = None

    def handle_data(self, data):
        if self._link:
            self._text.append(data)
            if self._title is not None and self._title_depth:
                self._title.append(data)


def legacy_children(page: str) -> list[tuple[str, str, bool]]:
    """Children from the old `drive/folders/<id>` page's `window['_DRIVE_ivd']` data."""
    match = re.search(r"window\['_DRIVE_ivd'\]\s*=\s*'((?:[^'\\]|\\.)*)'", page)
    if not match:
        return []
    try:
        data = json.loads(codecs.decode(match.group(1), "unicode_escape"))
    except (ValueError, UnicodeError):
        raise answer_error("Google Drive", "the folder page's file list", "is not valid JSON") from None
    children = data[0] if isinstance(data, list) and data and isinstance(data[0], list) else []
    return [(child[0], child[2], child[3] == FOLDER_MIME) for child in children
            if isinstance(child, list) and len(child) > 3 and isinstance(child[0], str) and child[0]
            and isinstance(child[2], str)]


def probe_name(session, url: str, fallback: str | None = None) -> str:
    """The file's name, for a single-file source whose registry gives none; `fallback` (the file
    id) when the answer is the file but names none usable (`filename=""`)."""
    response = session.get(url, stream=True)
    try:
        if "Content-Disposition" in response.headers:
            name = filename_from_disposition(response.headers["Content-Disposition"])
            if name or fallback:
                return remote_name(name or fallback)
        page = _read_page(response)
    finally:
        response.close()
    match = re.search(r'class="uc-name-size"><a[^>]*>([^<]+)</a>', page)
    if match:
        return remote_name(html.unescape(match.group(1)))
    raise_for_page(response, url, page)
    raise DownloadError(f"cannot learn the file name of {url}.",
                        "Give the file a `name` in the registry entry.")


def filename_from_disposition(value: str) -> str | None:
    """`filename*=UTF-8''…` first, then `filename="…"` (as gdown reads them)."""
    star = re.search(r"filename\*=UTF-8''([^;]+)", value, re.IGNORECASE)
    name = usable_file_name(unquote(star.group(1).strip().strip('"'))) if star else None
    if name:
        return name
    plain = re.search(r'filename="([^"]+)"', value) or re.search(r"filename=([^;]+)", value)
    return usable_file_name(unquote(plain.group(1).strip())) if plain else None


# ----------------------------------------------------------------------------- downloading
def download(remote: RemoteFile, path, session=None, *, quiet=None, **kwargs):
    """Find the URL that answers with the bytes (through the confirm form), then let the engine
    stream, resume and verify them."""
    session = session or new_session()
    url = resolve_download_url(session, remote.url)
    return engine_download(url, path, remote.checksums, remote.size, remote.headers, session=session,
                           quiet=quiet, **kwargs)


def resolve_download_url(session, url: str) -> str:
    """Follow Drive's interstitials until an answer carries `Content-Disposition` (the file)."""
    for _ in range(MAX_HOPS):
        response = request_stream(session, url)
        try:
            if is_the_file(response):
                return response.url
            page = _read_page(response)
        finally:
            response.close()
        next_url = confirm_url(page, url)   # relative links: against the URL we asked for, not its mirror
        if next_url is None:
            raise_for_page(response, url, page)
            raise DownloadError(f"Google Drive did not give the file {url} (HTTP {response.status_code}).",
                                "Open the link in a browser: if it downloads there, save the file and run "
                                "`histodata fetch ID --from DIR`.")
        url = next_url
    raise DownloadError(f"Google Drive kept answering with pages instead of the file {url}.",
                        "Open the link in a browser, download the file, then use "
                        "`histodata fetch ID --from DIR`.")


def is_the_file(response) -> bool:
    """Drive's sign of real bytes is `Content-Disposition` (status is 200 for pages too); a
    non-HTML answer without it is taken as the file as well."""
    if response.status_code >= 300:
        return False
    content_type = response.headers.get("Content-Type", "").lower()
    return "Content-Disposition" in response.headers or (bool(content_type) and "html" not in content_type)


def request_stream(session, url: str):
    """A streamed GET with the retry policy for network trouble, 429 and 5xx."""
    policy, failed = RetryPolicy.from_env(), 0
    while True:
        try:
            response = session.get(url, stream=True)
            if not status_is_retryable(response.status_code):
                return response
            error: RetryableError = retryable_status_error(response, url)
            response.close()
        except requests.RequestException as err:
            error = network_error(err, url)
        failed += 1
        policy.wait(failed, error)


def _read_page(response) -> str:
    data = response.raw.read(MAX_PAGE_BYTES, decode_content=True) if response.raw else b""
    return data.decode(response.encoding or "utf-8", errors="replace")


def confirm_url(page: str, page_url: str) -> str | None:
    """The next URL an interstitial page points to: the download form, an old confirm link, or
    a `downloadUrl` in page JSON. `page_url` (a Google URL, before the mirror map) resolves
    relative links, so a mirror with a path prefix keeps working."""
    form = re.search(r'<form[^>]*id="(?:download-form|downloadForm)"[^>]*>(.*?)</form>', page,
                     re.DOTALL | re.IGNORECASE)
    if form:
        action = re.search(r'action="([^"]+)"', form.group(0))
        inputs = re.findall(r'<input[^>]*type="hidden"[^>]*>', form.group(1))
        fields = {}
        for tag in inputs:
            name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
            if name:
                fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
        action_url = urljoin(page_url, html.unescape(action.group(1))) if action else page_url
        base = action_url.split("?", 1)[0]
        merged = {k: v[0] for k, v in parse_qs(urlsplit(action_url).query).items()}
        return f"{base}?{urlencode({**merged, **fields})}"
    link = re.search(r'href="(/uc\?export=download[^"]+)"', page)
    if link:   # the old confirm link (gdown prefixes docs.google.com; the page's own host serves it too)
        return urljoin(page_url, html.unescape(link.group(1)))
    data = re.search(r'"downloadUrl":"([^"]+)"', page)
    if data:
        return data.group(1).replace("\\u003d", "=").replace("\\u0026", "&")
    return None


def raise_for_page(response, url: str, page: str | None = None) -> None:
    """Turn Drive's error pages into errors that tell the person what to do."""
    page = page if page is not None else response.text[:MAX_PAGE_BYTES]
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL | re.IGNORECASE)
    title_text = html.unescape(title.group(1)).strip() if title else ""
    caption = re.search(r'class="uc-error-subcaption"[^>]*>(.*?)</p>', page, re.DOTALL)
    caption_text = re.sub(r"<[^>]+>", "", html.unescape(caption.group(1))).strip() if caption else ""
    browser = ("Open the link in a browser, download it by hand, then run "
               "`histodata fetch ID --from DIR` with the folder you saved it to.")
    if "quota" in title_text.lower() or "too many users" in caption_text.lower():
        raise AccessError(f"Google Drive refuses {url} for now: too many people downloaded it recently "
                          "(download quota exceeded).",
                          "Wait (up to 24 hours) and run the command again, or use another source of "
                          "the entry (a mirror via HISTODATA_MIRRORS). " + browser)
    if _is_sign_in(response, page) or response.status_code in (401, 403):
        raise AccessError(f"Google Drive asks to sign in for {url}: the file is not shared publicly "
                          "or you need permission.",
                          "Ask the owners to share it with 'Anyone with the link'. " + browser)
    if response.status_code == 404:
        raise DownloadError(f"Google Drive has no file or folder at {url} (HTTP 404).",
                            "The dataset may have moved; check the entry's homepage for a new link.")
    if response.status_code == 429 or "automated queries" in page.lower():
        raise AccessError(f"Google Drive is rate limiting downloads of {url}.",
                          "Wait a while and run the command again. " + browser)
    if caption_text:
        raise AccessError(f"Google Drive refused {url}: {caption_text}", browser)

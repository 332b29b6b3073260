"""grand-challenge.org archives through its REST API, streamed to disk by our engine.

archive (by slug or pk) -> `archives/items/?archive=<pk>` (paged by `next`) -> each item's values:
an `Image` socket points to `cases/images/<pk>/`, whose `files` are the downloadable image files
(MHD/TIFF; DZI tiles are derived and skipped); a `File` socket is a file URL. Every request
carries `Authorization: Bearer <GRAND_CHALLENGE_AUTHORIZATION>`; media URLs redirect to signed
storage, where our session drops the token. gcapi is not used: it buffers whole files in memory.

For challenges whose data lives elsewhere (CAMELYON on S3, PANDA on Kaggle), the entry's real
sources are used and the challenge page is only the entry's homepage.
Registry fields: `archive` (slug or pk), optional `api_url` (default the public API).
"""
from __future__ import annotations

import logging
import posixpath
import re
from collections import Counter
from urllib.parse import unquote, urlencode, urlsplit

from .. import credentials
from ..errors import DownloadError, HTTPAccessError, HTTPStatusError
from ..transfer.retry import request_with_retries
from . import untrusted
from .base import RemoteFile, apply_pinned, parallel_map, remote_name
from .pager import follow

log = logging.getLogger(__name__)

KIND = "grand-challenge"
SERVICE = "grand-challenge.org"
API = "https://grand-challenge.org/api/v1"
PAGE_SIZE = 100
DERIVED_IMAGE_TYPES = {"DZI"}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class Client:
    """JSON GETs with the Bearer token, the retry policy (429 + Retry-After, 5xx) and paging."""

    def __init__(self, session, headers: dict[str, str], api_url: str = API):
        self.session, self.api_url = session, api_url.rstrip("/")
        self.headers = credentials.scoped(headers, self.api_url)

    def get(self, url: str, params: dict | None = None, *, what: str):
        if params:
            url = f"{url}?{urlencode(params)}"
        response = request_with_retries(self.session, "GET", url,
                                        headers={**self.headers, "Accept": "application/json"})
        if response.status_code == 401:
            raise credentials.refused(credentials.GRAND_CHALLENGE, 401, _detail(response))
        if response.status_code == 403:
            raise HTTPAccessError(
                f"{what}: grand-challenge.org refused access (HTTP 403: {_detail(response)}).",
                "Request access to the archive or join the challenge on its page, then retry.", status=403, url=url)
        if response.status_code >= 400:
            raise HTTPStatusError(
                f"{what}: {url} answered HTTP {response.status_code} ({_detail(response)}).",
                "Check the archive slug in the registry entry, or try again later.",
                status=response.status_code, url=url)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/json":
            raise DownloadError(f"{what}: {url} answered {content_type or 'no content type'}, not JSON.",
                                "The API may be down or behind a login page; try again later.")
        try:
            return response.json()
        except ValueError:
            raise untrusted.answer_error(SERVICE, f"{what}: {url}", "is not valid JSON") from None

    def paginate(self, path: str, params: dict, *, what: str):
        """Every result of a list endpoint, following `next` until it is null or a page is empty,
        under the pager's rule (a `next` seen before, or a page of results already listed, ends it)."""
        def page(url):
            document = untrusted.document(self.get(url, what=what), SERVICE, what)
            results = untrusted.records(document.get("results"), SERVICE, what)
            following = untrusted.text(document, "next", SERVICE, what=f"`next` of {what}")
            return results, following if results else None

        first = f"{self.api_url}/{path}?{urlencode({**params, 'limit': PAGE_SIZE, 'offset': 0})}"
        yield from follow(f"grand-challenge.org ({what})", page, first=first, key=lambda r: r.get("pk"))


def _detail(response) -> str:
    try:
        return str(response.json().get("detail", ""))[:200]
    except (ValueError, AttributeError):
        return response.reason or ""


def find_archive(client: Client, archive: str) -> dict:
    """The archive document, by pk (a UUID) or by slug (exactly one match)."""
    what = f"archive {archive}"
    if _UUID.match(archive):
        found = client.get(f"{client.api_url}/archives/{archive}/", what=what)
        untrusted.identifier(untrusted.document(found, SERVICE, what), "pk", SERVICE, what=f"the pk of {what}")
        return found
    results = untrusted.document(client.get(f"{client.api_url}/archives/", {"slug": archive}, what=what),
                                 SERVICE, what)
    matches = untrusted.records(results.get("results"), SERVICE, what)
    if len(matches) != 1:
        raise DownloadError(f"grand-challenge.org has {len(matches)} archives with the slug {archive!r}.",
                            "Check the slug in the archive's URL, or ask for access to it.")
    untrusted.identifier(matches[0], "pk", SERVICE, what=f"the pk of {what}")
    return matches[0]


# ----------------------------------------------------------------------------- listing
def list_files(source, session, entry) -> list[RemoteFile]:
    """Every image file and file socket of the archive's items."""
    headers = credentials.grand_challenge_headers(required=True)
    client = Client(session, headers, source.api_url or API)
    archive = find_archive(client, str(source.archive))
    items = list(client.paginate("archives/items/", {"archive": archive["pk"]}, what="listing archive items"))
    per_item = list(zip([untrusted.identifier(item, "pk", SERVICE, what="an item's pk") for item in items],
                        parallel_map(lambda item: item_files(client, item), items)))
    return apply_pinned(_unique_names(per_item), source.files)


def item_files(client: Client, item: dict) -> list[RemoteFile]:
    """The downloadable files of one archive item; with several sockets, each its own folder."""
    values = [v for v in untrusted.records(item.get("values"), SERVICE, "an item's values")
              if v.get("image") or v.get("file")]
    files = []
    for value in values:
        folder = _socket_folder(value) if len(values) > 1 else ""
        if value.get("image"):
            image = value["image"]
            if not isinstance(image, dict) or image.get("files") is None:   # usually the image's URL
                url = image if isinstance(image, str) else untrusted.text(image, "api_url", SERVICE, required=True,
                                                                          what="an image's api_url")
                image = untrusted.document(client.get(url, what="image"), SERVICE, "an image")
            for f in untrusted.records(image.get("files"), SERVICE, "an image's files"):
                url = untrusted.text(f, "file", SERVICE, what="an image file's URL")
                if url and f.get("image_type") not in DERIVED_IMAGE_TYPES:
                    files.append(_remote(client, url, folder))
        else:
            files.append(_remote(client, untrusted.text(value, "file", SERVICE, what="a file socket's URL",
                                                        required=True), folder))
    return files


def _socket_folder(value: dict) -> str:
    interface = untrusted.mapping(value, "interface", SERVICE, what="a value's interface")
    return (untrusted.text(interface, "slug", SERVICE) or untrusted.text(interface, "relative_path", SERVICE)
            or "")


def _remote(client: Client, url: str, folder: str) -> RemoteFile:
    """A file URL; the token is scoped to the API's host, so the session sends it nowhere else."""
    name = unquote(posixpath.basename(urlsplit(url).path))
    return RemoteFile(name=remote_name(folder, name), url=url, headers=dict(client.headers), source_kind=KIND)


def _unique_names(per_item: list[tuple[str, list[RemoteFile]]]) -> list[RemoteFile]:
    """Files with the same name in different items go under a folder named after their item."""
    counts = Counter(remote.name for _, files in per_item for remote in files)
    for item_pk, files in per_item:
        for remote in files:
            if counts[remote.name] > 1:
                remote.name = remote_name(item_pk, remote.name)
    return [remote for _, files in per_item for remote in files]

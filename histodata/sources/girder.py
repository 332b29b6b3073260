"""Girder / Digital Slide Archive: folders, items and files of a Girder server, tree kept.

girder-client does authentication (GIRDER_API_KEY -> token, sent as `Girder-Token`), lookup by
path and listing, over our mirror-aware session with the shared retry policy; the bytes go
through our engine (`file/{id}/download` with Range), since girder-client cannot resume.
DSA extras (region crops, annotation JSON) live in `histodata.sources.dsa`.

Registry fields: `api_url` and one of `folder`, `item`, `path` (`/collection/<name>/...`).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import girder_client

from .. import credentials
from ..constants import CHECKSUM_ALGORITHMS
from ..errors import DownloadError, HTTPAccessError, HTTPStatusError
from ..redact import register_secret
from ..transfer.retry import request_with_retries
from . import dsa, untrusted
from .base import RemoteFile, apply_pinned, parallel_map, remote_name
from .pager import follow, walk_tree

log = logging.getLogger(__name__)

KIND = "girder"
SERVICE = "Girder"
PAGE_SIZE = 500
LISTING_WORKERS = 8       # concurrent item/{id}/files requests (Girder has no bulk file listing)


class _RetryingSession:
    """What girder-client calls (`session.get(url, **kw)`), routed through the retry policy."""

    def __init__(self, session):
        self.session = session

    def __getattr__(self, method: str):
        return lambda url, **kwargs: request_with_retries(self.session, method.upper(), url, **kwargs)


@dataclass
class Connection:
    """A girder-client bound to our session, and the token (if any) for download headers."""

    client: girder_client.GirderClient
    api_url: str
    token: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Girder-Token": self.token} if self.token else {}

    def file_url(self, file_id: str) -> str:
        return f"{self.api_url}/file/{file_id}/download"

    def get(self, path: str, params: dict | None = None, *, what: str):
        """GET a JSON document; Girder's errors become histodata errors."""
        try:
            return self.client.get(path, parameters=params)
        except girder_client.HttpError as err:
            raise girder_error(err, what, self) from None
        except ValueError:               # a body that is not JSON
            raise untrusted.answer_error(SERVICE, what, "is not JSON") from None

    def pages(self, path: str, params: dict, *, what: str):
        """Every record of a list endpoint, paging with limit/offset and Girder-Total-Count, under
        the pager's rule (a page of records already listed ends it, e.g. a server ignoring offset)."""
        def page(offset):
            try:
                response = self.client.sendRestRequest(
                    "GET", path, {**params, "limit": PAGE_SIZE, "offset": offset}, jsonResp=False)
            except girder_client.HttpError as err:
                raise girder_error(err, what, self) from None
            try:
                records = untrusted.records(response.json(), SERVICE, what)
            except ValueError:
                raise untrusted.answer_error(SERVICE, what, "is not JSON") from None
            offset += len(records)
            done = last_page(records, offset, response.headers.get("Girder-Total-Count"))
            return records, None if done else offset

        yield from follow(f"the Girder server at {self.api_url} ({what})", page, first=0,
                          key=lambda record: record.get("_id"))


def last_page(records: list, offset: int, total: str | None) -> bool:
    """Girder-Total-Count decides when present (a server may cap `limit`); else a short page ends."""
    if not records:
        return True
    if total and total.strip().isdigit():
        return offset >= int(total)
    return len(records) < PAGE_SIZE


def girder_error(err: girder_client.HttpError, what: str, conn: Connection) -> Exception:
    """401 (anonymous) and 403 (signed in) are access problems; others are download failures."""
    detail = _message(err)
    said = f" ({detail})" if detail else ""
    if err.status == 401:
        if conn.token:
            return credentials.refused(credentials.GIRDER, 401, detail)
        return HTTPAccessError(f"{what}: the Girder server at {conn.api_url} needs you to sign in{said}.",
                               f"Set {credentials.GIRDER.variables} to an API key from "
                               f"{credentials.GIRDER.where}.", status=401, url=err.url or "")
    if err.status == 403:
        return HTTPAccessError(f"{what}: your Girder account has no access to this resource{said}.",
                               "Ask the owners for access, or use another source of the entry.",
                               status=403, url=err.url or "")
    return HTTPStatusError(f"{what}: the Girder server at {conn.api_url} answered HTTP {err.status}{said}.",
                           "Check the entry's ids and api_url, or try again later.", status=err.status,
                           url=err.url or "")


def _message(err: girder_client.HttpError) -> str:
    try:
        return str(json.loads(err.responseText).get("message", ""))[:200]
    except (ValueError, AttributeError, TypeError):
        return ""


def connect(api_url: str, session) -> Connection:
    """A client for `api_url` (mirror-mapped by the session), signed in when GIRDER_API_KEY is set."""
    api_url = api_url.rstrip("/")
    client = girder_client.GirderClient(apiUrl=api_url + "/")
    client._session = _RetryingSession(session)   # girder-client's hook for a caller's session
    conn = Connection(client, api_url)
    key = credentials.girder_api_key()
    if key:
        conn.token = exchange_api_key(conn, key)
    return conn


def exchange_api_key(conn: Connection, key: str) -> str:
    """POST api_key/token. The key goes in the form body (Girder reads body and query alike),
    never in the URL; a server that only reads the query gets it there as a fallback."""
    client = conn.client
    for where in ("data", "parameters"):
        try:
            answer = client.sendRestRequest("POST", "api_key/token", **{where: {"key": key}})
            break
        except girder_client.HttpError as err:
            if where == "data" and 400 <= err.status < 500:
                continue                      # e.g. 400 "Parameter 'key' is required."
            if err.status in (400, 401, 403):
                raise credentials.refused(credentials.GIRDER, err.status, _message(err)) from None
            raise girder_error(err, "signing in with GIRDER_API_KEY", conn) from None
    try:
        token = answer["authToken"]["token"]
    except (KeyError, TypeError):
        raise DownloadError(f"the Girder server at {conn.api_url} gave no token for the API key.") from None
    register_secret(token)
    credentials.scoped({"Girder-Token": token}, conn.api_url)
    client.setToken(token)
    return token


# ----------------------------------------------------------------------------- listing
def list_files(source, session, entry) -> list[RemoteFile]:
    """Every file under the source's folder, item or path (tree kept), plus DSA extras."""
    conn = connect(source.api_url, session)
    files: list[RemoteFile] = []
    if dsa.wants_slides(source):
        files += _root_files(conn, source)
    files += dsa.extra_files(conn, source)
    return apply_pinned(files, source.files)


def _root_files(conn: Connection, source) -> list[RemoteFile]:
    if source.item:
        return item_files(conn, conn.get(f"item/{source.item}", what="item"), prefix="")
    if source.folder:
        return folder_files(conn, source.folder, "folder", prefix="")
    document = conn.get("resource/lookup", {"path": source.path}, what=f"looking up {source.path}")
    return resource_files(conn, document)


def resource_files(conn: Connection, document: dict) -> list[RemoteFile]:
    """The files under any Girder document found by path (collection, user, folder, item, file)."""
    document = untrusted.document(document, SERVICE, "the document at the path")
    kind = document.get("_modelType")
    if kind == "file":
        return [remote_for(conn, document, remote_name(_name(document)))]
    if kind == "item":
        return item_files(conn, document, prefix="")
    if kind in ("folder", "collection", "user"):
        return folder_files(conn, _id(document), kind, prefix="")
    raise DownloadError(f"the Girder path points to a {kind!r}, which holds no files.")


def _id(doc: dict) -> str:
    return untrusted.identifier(doc, "_id", SERVICE, what="a document's _id")


def _name(doc: dict) -> str:
    return untrusted.text(doc, "name", SERVICE, what=f"the name of {_id(doc)}", required=True)


def folder_files(conn: Connection, parent_id: str, parent_type: str, prefix: str) -> list[RemoteFile]:
    """The items of a folder and of every folder under it, names relative to the start; walked
    without recursion, a folder met twice (a folder inside itself) once."""
    def children(folder, where):
        folder_id, folder_type = folder
        if folder_type == "folder":
            items = list(conn.pages("item", {"folderId": folder_id}, what="listing items"))
            for remote in items_files(conn, items, where):
                yield remote, remote.name, False
        for sub in conn.pages("folder", {"parentType": folder_type, "parentId": folder_id},
                              what="listing folders"):
            yield (_id(sub), "folder"), remote_name(where, _name(sub)), True

    return [remote for _, remote in walk_tree(f"the Girder server at {conn.api_url}", (parent_id, parent_type),
                                                children, start=prefix)]


def items_files(conn: Connection, items: list[dict], prefix: str) -> list[RemoteFile]:
    """The files of many items, asked for a few at a time (one request per item), order kept."""
    per_item = parallel_map(lambda item: item_files(conn, item, prefix), items, LISTING_WORKERS)
    return [f for files in per_item for f in files]


def item_files(conn: Connection, item: dict, prefix: str) -> list[RemoteFile]:
    """An item's files: one file named like its item sits in place, others go in a folder
    named after the item (as girder-client's downloadItem lays them out)."""
    docs = list(conn.pages(f"item/{_id(item)}/files", {}, what="listing files"))
    single = len(docs) == 1 and _name(docs[0]) == _name(item)
    return [remote_for(conn, doc, remote_name(prefix, _name(doc)) if single
                       else remote_name(prefix, _name(item), _name(doc))) for doc in docs]


def remote_for(conn: Connection, doc: dict, name: str) -> RemoteFile:
    """A file document as a RemoteFile; Girder's sha512 (hashsum plugin) is used when offered."""
    sha512 = (untrusted.text(doc, "sha512", SERVICE, what=f"the sha512 of {name!r}") or "").lower()
    checksums = {"sha512": sha512} if len(sha512) == CHECKSUM_ALGORITHMS["sha512"] else {}
    return RemoteFile(name=name, url=conn.file_url(_id(doc)),
                      size=untrusted.count(doc, "size", SERVICE, what=f"the size of {name!r}"), checksums=checksums,
                      checksum_origin="provider" if checksums else None, headers=conn.headers,
                      source_kind=KIND)


def download(remote: RemoteFile, path, session=None, *, quiet=None, **kwargs):
    """Files that need more than one GET (DSA region crops) are made here."""
    return dsa.download(remote, path, session, quiet=quiet, **kwargs)

